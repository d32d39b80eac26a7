"""The client as one file: a zipapp (PEP 441) of this package, run by any Python 3.11+.

``kuma serve`` offers it at ``/station/kuma-station.pyz``, so a station installs the client with
one download and no pip (docs/station.md). It holds only this package's modules: the client
needs nothing beyond the standard library.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

MAIN = "from station.cli import run\n\nrun()\n"
SHEBANG = b"#!/usr/bin/env python3\n"
STAMP = (2020, 1, 1, 0, 0, 0)  # fixed member dates: the same code gives the same bytes


def build() -> bytes:
    package = Path(__file__).resolve().parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("__main__.py", STAMP), MAIN)
        for source in sorted(package.glob("*.py")):
            archive.writestr(zipfile.ZipInfo(f"station/{source.name}", STAMP), source.read_bytes())
    return SHEBANG + buffer.getvalue()
