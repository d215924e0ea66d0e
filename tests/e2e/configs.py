"""Copies of the shipped ``config.toml`` with a few keys changed, as an operator would edit it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import SHIPPED_CONFIG


def config_with(directory: Path, **values: int | str | list[int]) -> Path:
    """Write ``directory/config.toml``: the shipped file with each ``key = value`` replaced.

    Each key must appear exactly once in the shipped file (e.g. ``webhook_port``,
    ``local_emulator_port``), so a renamed key fails here rather than being ignored.
    """
    text = SHIPPED_CONFIG.read_text(encoding="utf-8")
    for key, value in values.items():
        literal = json.dumps(value, ensure_ascii=False)
        text, found = re.subn(
            rf"^{re.escape(key)}\s*=\s*[^#\n]*?(\s*(#.*)?)$",
            lambda m, literal=literal, key=key: f"{key} = {literal}{m.group(1)}",
            text,
            flags=re.MULTILINE,
        )
        assert found == 1, f"config.toml has {found} lines setting {key}"
    path = directory / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
