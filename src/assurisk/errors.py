"""Error and warning types: one place, so callers (and the CLI) can catch them by kind."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MAX_SHOWN = 80  # characters of a value shown in a message before it is cut (the length is given)
# Characters that must never reach a terminal raw: C0/C1 controls and DEL (escape sequences, carriage
# returns, bells), format characters (bidirectional overrides, zero-width), line and paragraph
# separators, surrogates (undecodable bytes) and private-use characters.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def safe_text(text: object) -> str:
    """``text`` as one printable line: every control, format or separator character (newlines, ESC,
    bidirectional overrides, ...) is shown as a Python-style escape (``\\x1b``, ``\\u202e``)."""
    s = str(text)
    if s.isascii() and s.isprintable():
        return s
    return "".join(ch if unicodedata.category(ch) not in _UNSAFE_CATEGORIES else _escape_char(ch) for ch in s)


def show_value(value: object, limit: int = MAX_SHOWN) -> str:
    """A value as it appears in a message: its repr, escaped, cut to ``limit`` characters."""
    try:
        r = repr(value)
    except Exception:  # a hostile object's __repr__ must not break the error report
        r = f"<{type(value).__name__}>"
    r = safe_text(r)
    if len(r) > limit:
        r = f"{r[:limit]}... ({len(r)} characters)"
    return r


class AssuriskError(Exception):
    """Base class of every error assurisk raises on purpose."""

    def __str__(self) -> str:  # one line, control characters escaped, wherever it is printed
        return safe_text(super().__str__())


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input table: where it is, what it is, what was expected."""

    row: int | None  # 0-based position in the table; None for table-level problems
    column: str | None
    value: object
    expected: str

    def where(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row + 1}")
        if self.column is not None:
            parts.append(f"column {show_value(self.column)}")
        return ", ".join(parts) or "table"

    def __str__(self) -> str:
        """One line; values and column names shown escaped and cut (see :func:`safe_text`)."""
        if self.row is None and self.column is None and self.value is None:
            return safe_text(self.expected)
        if self.row is None and self.value is None:
            return safe_text(f"{self.where()}: {self.expected}")
        return safe_text(f"{self.where()}: got {show_value(self.value)}, expected {self.expected}")


class InputError(AssuriskError, ValueError):
    """An input table (or argument) breaks the contract; ``problems`` lists every finding."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        first = str(self.problems[0])
        more = len(self.problems) - 1
        super().__init__(first + (f" (and {more} more problem{'s' * (more > 1)})" if more else ""))


class FitFileError(AssuriskError, OSError):
    """A file is not a readable assurisk fit (wrong format, version, or damaged)."""


class ConvergenceWarning(UserWarning):
    """The sampler's diagnostics fail the thresholds (R-hat > 1.01, ESS < 400 or divergences)."""
