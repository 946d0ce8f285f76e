"""PDF through headless Chromium: the same HTML, printed on A4 with the page's own running header and numbers."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import AssuriskError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ChromiumMissing(AssuriskError):
    """A PDF was asked for and no Chromium (or Chrome) could be found."""


def find_chromium() -> str:
    """Path of the browser: $ASSURISK_CHROMIUM, /usr/bin/chromium, or one on PATH; else ChromiumMissing."""
    env = os.environ.get("ASSURISK_CHROMIUM")
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise ChromiumMissing(f"writing a PDF needs headless Chromium: ASSURISK_CHROMIUM={env!r} is not an executable file")
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissing("writing a PDF needs headless Chromium, and none was found (install it, e.g. "
                          "`apt-get install chromium`, or set ASSURISK_CHROMIUM); write .html instead")


def chromium_args(browser: str, profile: str) -> list[str]:
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic", f"--user-data-dir={profile}"]


def print_pdf(html: str, dest: Path, timeout: float = 120) -> None:
    """Print ``html`` to the file ``dest`` (which must not exist) with Chromium's own header and footer off."""
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="assurisk-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        cmd = chromium_args(browser, str(Path(tmp) / "profile")) + [
            "--no-pdf-header-footer", f"--print-to-pdf={dest}", page.as_uri()]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AssuriskError(f"Chromium could not print the PDF: {exc}") from None
        if r.returncode != 0 or not dest.is_file() or dest.stat().st_size == 0:
            tail = (r.stderr or "").strip().splitlines()[-1:] or [""]
            raise AssuriskError(f"Chromium could not print the PDF (exit {r.returncode}): {tail[0][:300]}")
        with open(dest, "rb") as f:
            if f.read(5) != b"%PDF-":
                raise AssuriskError("Chromium wrote something that is not a PDF")


def write_pdf(html: str, target: Path, *, overwrite: bool = False) -> Path:
    """Print to a temporary file beside ``target``, then move it into place atomically (assurisk.safe_write)."""
    from ..safe_write import atomic_write

    def write(tmp: Path):
        tmp = Path(tmp)
        tmp.unlink(missing_ok=True)  # Chromium writes the file itself
        print_pdf(html, tmp)

    return atomic_write(target, write, overwrite=overwrite, streamable=False)
