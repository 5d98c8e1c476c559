"""The Streamlit options the explorer always runs with, from the ``streamlit.toml`` shipped here."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG_FILE = Path(__file__).parent / "streamlit.toml"


def shipped_options() -> dict[str, object]:
    """``{"client.toolbarMode": "minimal", ...}`` from the shipped file."""
    data = tomllib.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return {f"{section}.{key}": value for section, values in data.items() for key, value in values.items()}


def _flag_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def streamlit_flags(**overrides: object) -> list[str]:
    """Command-line flags for ``streamlit run`` (``server_address="..."`` style overrides win)."""
    options = shipped_options()
    for key, value in overrides.items():
        section, name = key.split("_", 1)
        camel = name.split("_")[0] + "".join(part.title() for part in name.split("_")[1:])
        options[f"{section}.{camel}"] = value
    flags: list[str] = []
    for key, value in options.items():
        flags += [f"--{key}", _flag_value(value)]
    return flags
