"""Single source of the package version (read by hatch and written into every fit)."""

__version__ = "0.2.0"

# Fits written by a package whose FIT_FORMAT differs cannot be read by this one.
FIT_FORMAT = 3
