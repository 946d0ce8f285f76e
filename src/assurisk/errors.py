"""Error and warning types: one place, so callers (and the CLI) can catch them by kind."""

from __future__ import annotations

from dataclasses import dataclass


class AssuriskError(Exception):
    """Base class of every error assurisk raises on purpose."""


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
            parts.append(f"column {self.column!r}")
        return ", ".join(parts) or "table"

    def __str__(self) -> str:
        if self.row is None and self.column is None and self.value is None:
            return self.expected
        if self.row is None and self.value is None:
            return f"{self.where()}: {self.expected}"
        return f"{self.where()}: got {self.value!r}, expected {self.expected}"


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
