"""Code lists: ISO 3166-1 alpha-3 states and the few documented non-state codes."""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

# Bodies that transfer people but are not states (used only as `sending_state`).
NON_STATE_SENDERS = {
    "ICTR": "International Criminal Tribunal for Rwanda",
    "IRMCT": "International Residual Mechanism for Criminal Tribunals",
    "ICTY": "International Criminal Tribunal for the former Yugoslavia",
}


@cache
def iso3166_alpha3() -> dict[str, str]:
    """Map of ISO 3166-1 alpha-3 code to English short name (249 codes, from Debian iso-codes)."""
    text = resources.files("assurisk").joinpath("_data/iso3166_alpha3.csv").read_text("utf-8")
    return {row["alpha3"]: row["name"] for row in csv.DictReader(text.splitlines())}


def state_name(code: str) -> str:
    """Readable name for a code, or the code itself when it is not a known code."""
    return iso3166_alpha3().get(code) or NON_STATE_SENDERS.get(code, code)
