"""Where the bundled data live: inside the installed wheel, or in ``data/`` of a source checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED = ("cases.csv", "state_covariates.csv", "state_covariates_fariss.csv", "default_fit.nc")


def data_path(name: str) -> Path:
    """Path of a bundled file; wheels carry them in ``assurisk/_data``, checkouts in ``data/``."""
    if name not in BUNDLED:
        raise KeyError(f"{name!r} is not a bundled data file; choose from {BUNDLED}")
    packaged = Path(str(resources.files("assurisk"))) / "_data" / name
    if packaged.is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "data" / name
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(
        f"bundled file {name!r} is missing from this installation (looked in {packaged} and {checkout})"
    )
