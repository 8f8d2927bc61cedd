"""The catalog as data: command tools (and runbooks) declared in YAML files, no Python.

`load_catalog` reads the files (`loader`), `schema` is their format, `command` runs a
command tool over SSH or WinRM. `SHIPPED` is the folder of packs that come with the bot.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED = Path(__file__).parent / "shipped"
