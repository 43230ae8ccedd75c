"""The README is the user's manual: every command is in it, and CI runs its test command."""

from __future__ import annotations

import re

from click.testing import CliRunner

from tests.conftest import PROJECT_ROOT
from wirewatch.cli import main

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_and_listed_in_help() -> None:
    help_text = CliRunner().invoke(main, ["--help"]).stdout
    for name, command in main.commands.items():
        assert f"`wirewatch {name}" in README, name
        assert re.search(rf"^\s+{name}\s+\S", help_text, re.M), name
        assert "Example:" in (command.help or ""), name


def test_readme_opens_with_install_run_and_test_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert "wirewatch run" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci
