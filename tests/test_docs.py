"""The documentation stays honest: every setting, command and assumption is documented."""

from __future__ import annotations

from pathlib import Path

import click

from tenglong.cli import main
from tenglong.core import loader
from tenglong.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_when_read_documents_every_setting():
    """Each TENGLONG_* variable appears in the README's settings table."""
    for name in Settings.model_fields:
        assert f"TENGLONG_{name.upper()}" in README, name


def test_readme_when_read_documents_every_command():
    """Each `tenglong` command (and bench subcommand) appears in the README."""
    ctx = click.Context(main)
    for name, cmd in main.commands.items():
        if isinstance(cmd, click.Group):
            for sub in cmd.list_commands(ctx):
                assert f"tenglong {name} {sub}" in README, f"{name} {sub}"
        else:
            assert f"tenglong {name}" in README, name


def test_readings_when_read_list_every_assumption():
    """docs/readings.md names every parameter flagged as an assumption."""
    readings = (ROOT / "docs" / "readings.md").read_text(encoding="utf-8")
    for p in loader.parameters():
        if p.assumption:
            assert p.path in readings, p.path


def test_readme_when_read_gives_two_setup_commands():
    """The README's setup is exactly two commands: ./run and ./test."""
    block = README.split("## Setup and use")[1].split("```bash")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["./run", "./test"]
