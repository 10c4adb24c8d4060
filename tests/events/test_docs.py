from __future__ import annotations

from pathlib import Path

from shiyu.events.transitions import TABLE

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_every_action_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [a for a in TABLE if f"| `{a}` |" not in text]
    assert not missing, f"docs/events.md lacks rows for {missing}"
