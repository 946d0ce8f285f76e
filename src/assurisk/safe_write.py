"""Writing output files so that nothing is lost or half-written, and nothing is written through a planted link.

Every file assurisk writes (fits, scored tables, reports, check summaries) goes through
:func:`atomic_write`: the content is written to a new temporary file created exclusively (no
predictable name, no following of a symlink planted at that name) in the target's own folder,
flushed to disk, then renamed over the target in one step. On any error, and on SIGTERM or SIGINT
during the write, the temporary file is removed and the target is left as it was.

A target that exists but is not a regular file is never replaced: a FIFO or a character device
(``/dev/stdout``, a named pipe) is written through when the format allows streaming, and refused
otherwise; a directory is refused.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import AssuriskError


class OutputError(AssuriskError, OSError):
    """An output destination cannot be written (missing folder, no permission, not a regular file, exists)."""


def _kind(path: Path) -> str:
    """'missing', 'file', 'dir', 'stream' (FIFO or character device) or 'other'."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror}") from None
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return "stream"
    return "other"


def check_destination(path: str | Path, *, overwrite: bool = True, streamable: bool = True) -> Path:
    """Check, before any long computation, that ``path`` can be written; return it as a Path.

    Raises :class:`OutputError` naming the problem: the folder is missing or not writable, the target
    is a directory, it exists and ``overwrite`` is False, or it is a pipe/device and the format
    cannot be streamed.
    """
    path = Path(path)
    kind = _kind(path)
    if kind == "dir":
        raise OutputError(f"cannot write {str(path)!r}: it is a directory; give a file name")
    if kind == "other":
        raise OutputError(f"cannot write {str(path)!r}: it exists and is not a regular file")
    if kind == "stream":
        if not streamable:
            raise OutputError(f"cannot write {str(path)!r}: it is a pipe or device, and this format needs a regular file")
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {str(path)!r}: permission denied")
        return path
    if kind == "file" and not overwrite:
        raise OutputError(f"{str(path)!r} already exists; choose another name or pass --force to replace it")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {str(path)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {str(path)!r}: folder {str(parent)!r} is not writable")
    return path


def _mode_for(path: Path) -> int:
    """The existing file's permission bits, or 0666 less the umask for a new file."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def _signals_raise():
    """During the write, turn SIGTERM into SystemExit so that clean-up code runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def atomic_write(path: str | Path, write: Callable[[Path], None], *, overwrite: bool = True,
                 streamable: bool = True) -> Path:
    """Call ``write(tmp_path)`` to produce the content, then move it into place atomically.

    For a pipe or character device target (when ``streamable``), ``write`` is called with the target
    itself: it is written through, never replaced.
    """
    path = check_destination(path, overwrite=overwrite, streamable=streamable)
    if _kind(path) == "stream":
        try:
            write(path)
        except OSError as exc:
            raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
        return path
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with _signals_raise():
            os.fchmod(fd, _mode_for(path))  # mkstemp makes 0600; give the file the mode a plain open() would
            os.close(fd)
            write(tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            if not overwrite and path.exists():
                raise OutputError(f"{str(path)!r} appeared while writing; not replaced")
            os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return path


def write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write UTF-8 text atomically (or through a pipe)."""
    return atomic_write(path, lambda p: Path(p).write_text(text, encoding="utf-8"), overwrite=overwrite)


# --- tables for spreadsheets ------------------------------------------------------------------------
# A cell a spreadsheet would run as a formula: it starts (after any spaces) with = + - @ or their
# full-width forms, or it starts with a tab or a carriage return (OWASP, "CSV injection").
FORMULA_START = r"^(?:\s*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r])"
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"  # "-3", "+1.5e2": read as numbers, never run


def escape_formulas(df):
    """A copy of ``df`` that a spreadsheet will not run: every text cell (and column name) that would be
    read as a formula gets a leading single quote, ``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``.

    Plain numbers such as ``-3`` are left alone (a spreadsheet reads them as numbers), and so are
    numeric, boolean and missing cells. The quote changes the data: use this only for files meant to
    be opened in a spreadsheet, never for files read back by programs.
    """
    import pandas as pd

    out = df.copy()
    for i, col in enumerate(df.columns):
        s = df.iloc[:, i]
        if not (isinstance(s.dtype, pd.StringDtype) or s.dtype == object):
            continue
        text = s.astype("string")
        risky = (text.str.contains(FORMULA_START, regex=True) & ~text.str.fullmatch(PLAIN_NUMBER)).fillna(False)
        if risky.any():
            out.isetitem(i, text.mask(risky, "'" + text))
    out.columns = [_escape_name(c) for c in df.columns]
    return out


def _escape_name(name):
    import re

    return "'" + name if isinstance(name, str) and re.match(FORMULA_START, name) and not re.match(PLAIN_NUMBER, name) else name


def write_csv(df, path: str | Path, *, escape_formulas: bool = False, overwrite: bool = True) -> Path:
    """Write ``df`` as CSV (no index) atomically, or through a pipe or ``/dev/stdout``.

    ``escape_formulas=True`` first applies :func:`escape_formulas` (for files meant for a spreadsheet).
    Cells are otherwise written as they are: assurisk carries input data through untouched.
    """
    table = _escape(df) if escape_formulas else df
    return atomic_write(path, lambda p: table.to_csv(p, index=False), overwrite=overwrite)


_escape = escape_formulas
