"""docs/operations.md carries the configuration reference generated from the settings."""

from __future__ import annotations

from pathlib import Path

from shiyu.ops.configref import BEGIN, END, reference
from tests.conftest import make_settings
from tests.helpers import run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_operations_guide_has_the_current_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert reference() in text, "regenerate: shiyu config reference (docs/operations.md §9)"


def test_reference_lists_every_setting() -> None:
    ref = reference()
    assert ref.startswith(BEGIN) and ref.endswith(END)
    for name in type(make_settings("sqlite://")).model_fields:
        assert f"`SHIYU_{name.upper()}`" in ref


def test_the_command_prints_it(fresh_database: str) -> None:
    done = run_cli(fresh_database, "config", "reference")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == reference()
