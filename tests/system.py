"""System (Debian) packages some tests need, and the one line that names what to install.

``make system-deps`` installs them as root with apt (``make test`` runs it first). Without root the
tests needing a missing package skip with one line saying what to install; everything else runs.
``REGIOMATCH_CHROMIUM=/nonexistent`` hides Chromium (from the PDF renderer and the browser tests),
which is how the skip path is checked on a machine that has it.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver",)
# What each capability needs, as Debian packages (the Makefile's SYSTEM_PACKAGES installs them all).
PACKAGES = {
    "browser": "chromium chromium-driver",
    "postgresql": "postgresql",
    "pango": "libpango-1.0-0 libpangoft2-1.0-0",
    "qgis": "python3-qgis",
}
# QGIS's Python bindings live in the system Python, not in the virtual environment.
SYSTEM_PYTHON = "/usr/bin/python3"


def _configured(variable: str, candidates: tuple[str, ...], name: str) -> str | None:
    configured = os.environ.get(variable)
    if configured:
        return configured if Path(configured).exists() else None
    return next((p for p in candidates if Path(p).exists()), None) or shutil.which(name)


def chromium() -> str | None:
    """The Chromium executable (``$REGIOMATCH_CHROMIUM`` if set), or None."""
    return _configured("REGIOMATCH_CHROMIUM", CHROMIUM_CANDIDATES, "chromium")


def chromedriver() -> str | None:
    """The chromedriver executable (``$REGIOMATCH_CHROMEDRIVER`` if set), or None."""
    return _configured("REGIOMATCH_CHROMEDRIVER", CHROMEDRIVER_CANDIDATES, "chromedriver")


def has_pango() -> bool:
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):  # OSError: the package is there, Pango is not
        return False
    return True


def has_postgresql() -> bool:
    return bool(os.environ.get("REGIOMATCH_TEST_POSTGRES_URL") or glob.glob("/usr/lib/postgresql/*/bin/initdb"))


def has_qgis() -> bool:
    """Whether the system Python can import QGIS (Debian's python3-qgis), for the OAPIF client test."""
    return Path(SYSTEM_PYTHON).exists() and bool(glob.glob("/usr/lib/python3/dist-packages/qgis/core"))


def missing_packages() -> list[str]:
    """Debian packages whose absence makes some tests skip here (empty when all are present)."""
    missing = []
    if not (chromium() and chromedriver()):
        missing.append(PACKAGES["browser"])
    if not has_postgresql():
        missing.append(PACKAGES["postgresql"])
    if not has_pango():
        missing.append(PACKAGES["pango"])
    if not has_qgis():
        missing.append(PACKAGES["qgis"])
    return missing


SKIP_MARK = "needs the system packages"


def install_hint(packages: str) -> str:
    return (f"{SKIP_MARK} {packages}: install them as root with `make system-deps` "
            f"(or apt-get install -y {packages})")


def require_browser() -> tuple[str, str]:
    """Paths of chromium and chromedriver; skips the calling test (one summary line) without them."""
    found = chromium(), chromedriver()
    if not all(found):
        pytest.skip(install_hint(PACKAGES["browser"]))
    return found  # type: ignore[return-value]


def require_pdf_renderer() -> None:
    """Skip the calling test when neither WeasyPrint (Pango) nor Chromium can render a PDF."""
    from maps.pdf import available_renderers

    if not available_renderers():
        pytest.skip(install_hint(f"{PACKAGES['pango']} (or {PACKAGES['browser'].split()[0]})"))
