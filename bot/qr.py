"""QR codes of deep links, for staff to print on notice boards (spec 01, Identity).

A QR code posted inside a building opens ``t.me/<bot>?start=<building code>``;
residents who join through it are *located* (:mod:`civic.residents`). The PNG
is written with segno, a pure-Python encoder, at error correction level M or
higher (segno raises the level when the data still fits), so a notice that is
a little dirty or creased still scans.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno

SCALE = 10
"""Pixels per module: a version 3–4 code is about 4 cm at 300 dpi, easy to scan from a board."""
BORDER = 4
"""The quiet zone the QR standard asks for, in modules."""


def write_qr_png(link: str, path: Path, *, scale: int = SCALE) -> Path:
    """Write the QR code of ``link`` to ``path`` as a PNG; return the path."""
    segno.make(link, error="m", micro=False).save(str(path), kind="png", scale=scale, border=BORDER)
    return path


def qr_png_bytes(link: str, *, scale: int = SCALE) -> bytes:
    """The same PNG as :func:`write_qr_png`, in memory (a bot sends it without a file)."""
    out = io.BytesIO()
    segno.make(link, error="m", micro=False).save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()
