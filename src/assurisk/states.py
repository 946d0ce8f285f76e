"""Receiving states: ISO 3166-1 alpha-3 codes, state names and common aliases, sovereign states only.

A receiving state gives an assurance, so it must be able to: only sovereign states are accepted.
That is the ISO 3166-1 entries less the dependent territories and areas of special sovereignty
(:data:`NOT_SOVEREIGN`: Antarctica, Hong Kong, Puerto Rico, Greenland, Western Sahara, ...), plus the
documented exceptions in :data:`EXCEPTIONS` (Taiwan ``TWN``, Palestine ``PSE``, Kosovo ``XKX``, the
user-assigned code the European Commission and the World Bank use): 197 states in all, the 193 UN
members, the two UN observer states (Holy See, Palestine), Taiwan and Kosovo.

Names are looked up in the ISO 3166-1 data maintained by Debian's iso-codes project, through
`pycountry <https://pypi.org/project/pycountry/>`_: short names, official names and common names
(``Iran``, ``Syria``, ``North Korea``), with accents, case, punctuation and a leading "the" ignored,
and "Congo, The Democratic Republic of the" also read as "Democratic Republic of the Congo".
:data:`ALIASES` adds the few English short forms ISO does not list (``Russia``, ``UK``, ``Turkey``,
``Ivory Coast``, ...). Only values that are not already valid codes are looked up, and pycountry is
imported only then, so scoring a table of codes costs nothing extra. Two-letter codes are not
accepted (``NA`` would silently become Namibia).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import numpy as np
import pandas as pd

# ISO 3166-1 entries that are not sovereign states: dependent territories, Antarctica and areas of
# special sovereignty (ISO 3166-1 marks all of these "independent: no"; so does the US Department of
# State's list of dependencies and areas of special sovereignty). Taiwan and Palestine, which ISO
# also marks "no", are accepted: see EXCEPTIONS.
NOT_SOVEREIGN = {
    "ALA": "Åland Islands (Finland)", "ASM": "American Samoa (United States)", "AIA": "Anguilla (United Kingdom)",
    "ATA": "Antarctica", "ABW": "Aruba (Netherlands)", "BMU": "Bermuda (United Kingdom)",
    "BES": "Bonaire, Sint Eustatius and Saba (Netherlands)", "BVT": "Bouvet Island (Norway)",
    "IOT": "British Indian Ocean Territory", "CYM": "Cayman Islands (United Kingdom)",
    "CXR": "Christmas Island (Australia)", "CCK": "Cocos (Keeling) Islands (Australia)",
    "COK": "Cook Islands (free association with New Zealand)", "CUW": "Curaçao (Netherlands)",
    "FLK": "Falkland Islands", "FRO": "Faroe Islands (Denmark)", "GUF": "French Guiana (France)",
    "PYF": "French Polynesia (France)", "ATF": "French Southern Territories (France)",
    "GIB": "Gibraltar (United Kingdom)", "GRL": "Greenland (Denmark)", "GLP": "Guadeloupe (France)",
    "GUM": "Guam (United States)", "GGY": "Guernsey (British Crown Dependency)",
    "HMD": "Heard Island and McDonald Islands (Australia)", "HKG": "Hong Kong (China)",
    "IMN": "Isle of Man (British Crown Dependency)", "JEY": "Jersey (British Crown Dependency)",
    "MAC": "Macao (China)", "MTQ": "Martinique (France)", "MYT": "Mayotte (France)",
    "MSR": "Montserrat (United Kingdom)", "NCL": "New Caledonia (France)",
    "NIU": "Niue (free association with New Zealand)", "NFK": "Norfolk Island (Australia)",
    "MNP": "Northern Mariana Islands (United States)", "PCN": "Pitcairn (United Kingdom)",
    "PRI": "Puerto Rico (United States)", "REU": "Réunion (France)", "BLM": "Saint Barthélemy (France)",
    "SHN": "Saint Helena, Ascension and Tristan da Cunha (United Kingdom)", "MAF": "Saint Martin (France)",
    "SPM": "Saint Pierre and Miquelon (France)", "SXM": "Sint Maarten (Netherlands)",
    "SGS": "South Georgia and the South Sandwich Islands (United Kingdom)",
    "SJM": "Svalbard and Jan Mayen (Norway)", "TKL": "Tokelau (New Zealand)",
    "TCA": "Turks and Caicos Islands (United Kingdom)", "UMI": "United States Minor Outlying Islands",
    "VGB": "Virgin Islands, British", "VIR": "Virgin Islands, U.S.", "WLF": "Wallis and Futuna (France)",
    "ESH": "Western Sahara (non-self-governing territory)",
}

# Accepted although ISO 3166-1 marks them "independent: no" (TWN, PSE) or has no code (XKX).
EXCEPTIONS = {
    "TWN": "Taiwan",
    "PSE": "Palestine",
    "XKX": "Kosovo",
}

# English short forms in common use that ISO 3166-1 does not list as a name (keys are compared
# after the same normalisation as names: case, accents, punctuation and a leading "the" ignored).
ALIASES = {
    "russia": "RUS", "uk": "GBR", "great britain": "GBR", "britain": "GBR", "england": "GBR",
    "us": "USA", "usa": "USA", "america": "USA", "united states of america": "USA",
    "turkey": "TUR", "ivory coast": "CIV", "burma": "MMR", "vatican": "VAT", "vatican city": "VAT",
    "dr congo": "COD", "drc": "COD", "congo kinshasa": "COD", "congo brazzaville": "COG",
    "republic of the congo": "COG", "cape verde": "CPV", "east timor": "TLS", "swaziland": "SWZ",
    "macedonia": "MKD", "brunei": "BRN", "czech republic": "CZE", "uae": "ARE", "emirates": "ARE",
    "kosovo": "XKX", "republic of kosovo": "XKX", "palestine": "PSE", "state of palestine": "PSE",
    "prc": "CHN", "peoples republic of china": "CHN", "micronesia": "FSM", "south sudan": "SSD",
}

EXPECTED = ("a sovereign state as an ISO 3166-1 alpha-3 code or an English name, such as 'CHN' or 'China' "
            "(dependent territories and Antarctica are not states that give assurances)")

_CODE = re.compile(r"^[A-Z]{3}$")


@cache
def _iso() -> dict[str, str]:
    from .codes import iso3166_alpha3

    return iso3166_alpha3()


@cache
def sovereign_codes() -> frozenset[str]:
    """The 197 codes accepted as receiving states."""
    return frozenset((set(_iso()) - set(NOT_SOVEREIGN)) | set(EXCEPTIONS))


def _norm(text: str) -> str:
    """Case, accents, punctuation, '&' and a leading 'the' ignored; whitespace collapsed."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().casefold()
    t = re.sub(r"['\u2019`]", "", t.replace("&", " and "))  # "Côte d'Ivoire" = "cote divoire"
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    t = re.sub(r"\bst\b", "saint", t)  # "St Lucia"
    return t[4:] if t.startswith("the ") else t


def _variants(name: str):
    yield name
    m = re.fullmatch(r"(.*?)\s*\((.*)\)", name)  # "Holy See (Vatican City State)"
    if m:
        yield m.group(1)
        yield m.group(2)
    if "," in name:  # "Congo, The Democratic Republic of the" -> "The Democratic Republic of the Congo"
        head, tail = (s.strip() for s in name.split(",", 1))
        yield f"{tail} {head}"
        yield head  # "Palestine, State of" -> "Palestine"; dropped below where it is ambiguous ("Korea")


@cache
def name_index() -> dict[str, str]:
    """Normalised name -> ISO 3166-1 alpha-3 code, for every ISO entry and alias (ambiguous names dropped)."""
    import pycountry

    found: dict[str, set[str]] = {}
    exact: dict[str, str] = {}
    for c in pycountry.countries:
        for field in ("name", "official_name", "common_name"):
            value = getattr(c, field, None)
            if not value:
                continue
            exact[_norm(value)] = c.alpha_3
            for v in _variants(value):
                found.setdefault(_norm(v), set()).add(c.alpha_3)
    index = {k: next(iter(v)) for k, v in found.items() if len(v) == 1 and k}
    index.update(exact)  # an exact ISO name beats a derived variant ("Congo" is COG)
    index.update(ALIASES)
    return index


def resolve(value) -> str | None:
    """The ISO 3166-1 alpha-3 code a value stands for (a code in any case, or a name), else None.

    Territories resolve to their own code (``"Antarctica"`` -> ``"ATA"``); whether that is a
    sovereign state is :func:`is_sovereign`'s question.

    Example:
        >>> resolve("Russia"), resolve(" chn "), resolve("Côte d'Ivoire"), resolve("Atlantis")
        ('RUS', 'CHN', 'CIV', None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    up = text.upper()
    if _CODE.match(up) and (up in _iso() or up in EXCEPTIONS):
        return up
    return name_index().get(_norm(text))


def is_sovereign(code: str) -> bool:
    return code in sovereign_codes()


def display_name(code: str) -> str:
    """A readable name for a code (``XKX`` -> ``Kosovo``), or the code itself."""
    from .codes import state_name

    return EXCEPTIONS.get(code) if code == "XKX" else state_name(code)


def categorical(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise a receiving-state column through its distinct values (the contract's hook).

    Returns (code per row, -1 for blanks; the resolved code (or the upper-cased text when nothing
    matched) per distinct value; mask of rows that are not a sovereign state). Only distinct values
    that are not already sovereign codes are looked up by name.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(uniques, dtype=object).astype("string").str.strip().str.upper().fillna("")
    levels = text.to_numpy(dtype=object)
    sovereign = sovereign_codes()
    ok = np.array([v in sovereign for v in levels], dtype=bool)
    for i in np.flatnonzero(~ok):
        code = resolve(uniques[i])
        if code is not None:
            levels[i] = code
            ok[i] = code in sovereign
    bad = np.ones(len(series), dtype=bool)
    valid = codes >= 0
    bad[valid] = ~ok[codes[valid]]
    return codes, levels.astype(str), bad
