"""Sources that survive print: one numbered reference list, official links built by rule, weak sources marked.

Everything here reads untrusted text (a case table's ``sources`` and ``citations``) and returns plain
data; the template escapes it. A link is only ever made for an ``http``/``https`` URL (checked by
:func:`safe_url`); anything else is printed as text.

Rules (also in docs/report.md):

- **Official copies by rule.** ECtHR application numbers ("no. 8139/09", with "ECtHR", "[GC]" or
  "European Court of Human Rights" in the citation) link to HUDOC; UK neutral citations ("[2008] EWCA
  Civ 289", "[2009] EWHC 770 (Admin)", "[2006] UKSIAC 39/2005") to BAILII, and for the courts it covers
  to the National Archives' Find Case Law; New Zealand neutral citations ("[2022] NZSC 44") to NZLII; an ECLI to the court's own service (Netherlands: rechtspraak.nl;
  EU: EUR-Lex) or else the European e-Justice ECLI search; a UN treaty-body symbol
  ("CAT/C/34/D/233/2003", "CCPR/C/88/D/1416/2005") to the OHCHR treaty body database. These links are
  built from the citation's text, not checked online.
- **Weak sources** by domain: blogs (blogspot, wordpress, medium, substack, typepad, any host or path
  marked ``blog``, a ``/wp/`` path), wikis (wikipedia and its mirrors), forums and document mirrors
  (reddit, quora, yumpu, scribd, freerepublic), leaked cables (wikileaks). Weak does not mean wrong; it
  means a court should want the primary document.
- **https preferred**: an ``http://`` URL on a site known to serve https is printed with https.
- **Archive copies**: a web.archive.org URL is shown as an archive copy, with the original address and
  the capture date it encodes; the access date comes from the ``accessed`` column where the table has it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlparse

URL_RE = re.compile(r"^https?://[^\s<>\"']+$", re.I)

WEAK_DOMAINS = {
    "blogspot.com": "blog", "wordpress.com": "blog", "medium.com": "blog", "substack.com": "blog",
    "typepad.com": "blog", "tumblr.com": "blog", "livejournal.com": "blog",
    "wikipedia.org": "wiki", "wikiwand.com": "wiki mirror", "encycloreader.org": "wiki mirror",
    "sagapedia.com": "wiki mirror", "cryer.org.uk": "wiki mirror", "osmarks.net": "wiki mirror",
    "reddit.com": "forum", "quora.com": "forum", "freerepublic.com": "forum", "democraticunderground.com": "forum",
    "yumpu.com": "document mirror", "scribd.com": "document mirror", "docplayer.net": "document mirror",
    "wikileaks.org": "leaked cable", "cablegatesearch.net": "leaked cable",
}
HTTPS_SITES = ("bailii.org", "scmp.com", "theguardian.com", "hrw.org", "amnesty.org", "refworld.org", "ohchr.org",
               "un.org", "coe.int", "gov.uk", "nationalarchives.gov.uk", "bbc.co.uk", "bbc.com", "reuters.com",
               "nytimes.com", "washingtonpost.com", "aljazeera.com", "apnews.com", "latimes.com", "cbc.ca",
               "theglobeandmail.com", "china.org.cn", "rferl.org", "icty.org", "unictr.irmct.org", "irmct.org",
               "justice.gov", "state.gov", "europa.eu", "rechtspraak.nl", "courts.ie", "canlii.org", "austlii.edu.au")

ECTHR_APP = re.compile(r"\bnos?\.\s*((?:\d{1,6}/\d{2})(?:\s*(?:,|and)\s*\d{1,6}/\d{2})*)", re.I)
ECTHR_MARK = re.compile(r"ECtHR|\[GC\]|European Court of Human Rights|\bv\.\s+(?:the\s+)?[A-Z][\w .'-]*,\s*nos?\.\s*\d{1,6}/\d{2}")
NEUTRAL = re.compile(r"\[(\d{4})\]\s+(UKSC|UKHL|UKPC|UKSIAC|UKUT|UKAIT|EWCA\s+(?:Civ|Crim)|EWHC|NIQB|NICA|CSOH|CSIH)"
                     r"\s+(\d+(?:/\d{4})?)(?:\s*\((Admin|QB|KB|Ch|Fam|Comm|Pat|TCC)\))?")
ECLI_RE = re.compile(r"\bECLI:([A-Z]{2}):([A-Z0-9.]+):(\d{4}):([A-Z0-9.]+)\b", re.I)
NZ_NEUTRAL = re.compile(r"\[(\d{4})\]\s+(NZSC|NZCA|NZHC)\s+(\d+)")
UN_SYMBOL = re.compile(r"\b(CAT|CCPR|CERD|CEDAW|CRC|CED|CRPD)/C/\d+/D/\d+/\d{4}\b")


def safe_url(text) -> str | None:
    """``text`` as a URL when it is one with an http(s) scheme and a host, else None (never a link)."""
    s = str(text).strip()
    if not URL_RE.match(s):
        return None
    u = urlparse(s)
    if u.scheme.lower() not in ("http", "https") or not u.hostname:
        return None
    return s


def _host(url: str) -> str:
    return (urlparse(url).hostname or "").lower().removeprefix("www.")


def _on(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def weak_reason(url: str) -> str | None:
    """Why a source is weak by the domain rule (see the module docstring), or None."""
    host = _host(url)
    for domain, why in WEAK_DOMAINS.items():
        if _on(host, domain):
            return why
    path = urlparse(url).path.lower()
    if host.startswith(("blog.", "blogs.")) or "/blog/" in path or "/blogs/" in path or path.startswith("/wp/"):
        return "blog"
    return None


def prefer_https(url: str) -> str:
    if url.lower().startswith("http://") and any(_on(_host(url), d) for d in HTTPS_SITES):
        return "https://" + url[7:]
    return url


ARCHIVE = re.compile(r"^https?://web\.archive\.org/web/(\d{4})(\d{2})(\d{2})\d*[a-z_]*/(https?://.+)$", re.I)


def archive_info(url: str) -> dict | None:
    """For a web.archive.org URL: the original address and the capture date."""
    m = ARCHIVE.match(url)
    if not m:
        return None
    orig = safe_url(m.group(4))
    return {"original": orig, "captured": f"{m.group(1)}-{m.group(2)}-{m.group(3)}"} if orig else None


def official_links(citation: str) -> list[dict]:
    """Official copies of a formal citation, by the rules in the module docstring: [{label, url}]."""
    out = []
    if ECTHR_MARK.search(citation):
        m = ECTHR_APP.search(citation)
        if m:
            for app in re.findall(r"\d{1,6}/\d{2}", m.group(1)):
                q = quote('{"appno":["%s"]}' % app, safe="")
                out.append({"label": f"HUDOC {app}", "url": f"https://hudoc.echr.coe.int/eng#{q}"})
    for m in NEUTRAL.finditer(citation):
        year, court, num, div = m.group(1), re.sub(r"\s+", " ", m.group(2)), m.group(3), m.group(4)
        bailii = tna = None
        if court == "EWHC" and div:
            bailii = f"https://www.bailii.org/ew/cases/EWHC/{div}/{year}/{num}.html"
            tna = f"https://caselaw.nationalarchives.gov.uk/ewhc/{div.lower()}/{year}/{num}"
        elif court.startswith("EWCA"):
            sub = court.split()[1]
            bailii = f"https://www.bailii.org/ew/cases/EWCA/{sub}/{year}/{num}.html"
            tna = f"https://caselaw.nationalarchives.gov.uk/ewca/{sub.lower()}/{year}/{num}"
        elif court == "UKSIAC":
            bailii = f"https://www.bailii.org/uk/cases/SIAC/{year}/{num.replace('/', '_')}.html"
        elif court in ("UKSC", "UKHL", "UKPC", "UKUT", "UKAIT"):
            bailii = f"https://www.bailii.org/uk/cases/{court}/{year}/{num}.html"
            if court in ("UKSC", "UKPC"):
                tna = f"https://caselaw.nationalarchives.gov.uk/{court.lower()}/{year}/{num}"
        elif court in ("NIQB", "NICA"):
            bailii = f"https://www.bailii.org/nie/cases/{court}/{year}/{num}.html"
        elif court in ("CSOH", "CSIH"):
            bailii = f"https://www.bailii.org/scot/cases/ScotCS/{year}/{year}{court}{num}.html"
        if bailii:
            out.append({"label": "BAILII", "url": bailii})
        if tna:
            out.append({"label": "Find Case Law (The National Archives)", "url": tna})
    for m in NZ_NEUTRAL.finditer(citation):
        out.append({"label": "NZLII", "url": f"https://www.nzlii.org/nz/cases/{m.group(2)}/{m.group(1)}/{m.group(3)}.html"})
    for m in ECLI_RE.finditer(citation):
        ecli = m.group(0).upper()
        country = m.group(1).upper()
        if country == "NL":
            url = f"https://uitspraken.rechtspraak.nl/inziendocument?id={quote(ecli, safe=':')}"
        elif country == "EU":
            url = f"https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=ecli:{quote(ecli, safe=':')}"
        else:
            url = "https://e-justice.europa.eu/ecli-search"
        out.append({"label": f"ECLI {ecli}", "url": url})
    for m in UN_SYMBOL.finditer(citation):
        sym = m.group(0)
        out.append({"label": f"UN treaty body database {sym}",
                    "url": "https://tbinternet.ohchr.org/_layouts/15/treatybodyexternal/Download.aspx?symbolno="
                           f"{quote(sym, safe='')}&Lang=en"})
    return out


def split_list(text) -> list[str]:
    return [p.strip() for p in str(text or "").split(";") if p.strip()]


class References:
    """One numbered list for the whole report; the same source cited twice gets one number."""

    def __init__(self):
        self.items: list[dict] = []
        self._index: dict[str, int] = {}

    def add(self, text: str, accessed: str = "") -> int:
        text = str(text).strip()
        key = text.lower()
        if key in self._index:
            item = self.items[self._index[key] - 1]
            if accessed and accessed not in item["accessed"]:
                item["accessed"].append(accessed)
            return self._index[key]
        url = safe_url(text)
        item = {"n": len(self.items) + 1, "text": text, "url": None, "shown_url": None, "weak": None,
                "archive": None, "official": [], "accessed": [accessed] if accessed else [], "kind": "citation"}
        if url:
            item.update(kind="url", url=prefer_https(url), shown_url=prefer_https(url), weak=weak_reason(url),
                        archive=archive_info(url))
            if item["archive"] and item["archive"]["original"]:
                item["weak"] = weak_reason(item["archive"]["original"])
        elif re.match(r"^[a-z][a-z0-9+.-]*:", text, re.I) and not ECLI_RE.match(text):
            item["kind"] = "unlinked"  # a scheme we never link (javascript:, data:, file:): shown as text
        else:
            item["official"] = [o for o in official_links(text) if safe_url(o["url"])]
        self.items.append(item)
        self._index[key] = item["n"]
        return item["n"]
