"""Hot issues on a small crafted set (each expectation checkable by reading the messages), on a
CSV through the CLI, and on the real hot.csv."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from shiyu.warning import hot
from tests.helpers import run_cli

HOT_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "appeals" / "hot.csv"


def _m(key: str, subject: str, detail: str, person: str, day: int, likes: int = 0) -> hot.Message:
    return hot.Message(
        key=key,
        subject=subject,
        detail=detail,
        at=datetime(2025, 3, day, 10, 0),
        person=person,
        likes=likes,
    )


NOISE = "A3区锦绣花园小区旁边工地夜间施工噪音扰民"
CRAFTED = [
    _m("n1", NOISE, "锦绣花园小区旁边的工地每天夜里施工到凌晨，噪音扰民，居民无法休息。", "u1", 3),
    _m(
        "n2",
        "锦绣花园小区工地夜间施工噪音太大",
        "锦绣花园小区旁工地夜间施工，噪音严重扰民。",
        "u2",
        5,
    ),
    _m("n3", "投诉锦绣花园工地噪音扰民", "锦绣花园小区附近工地夜间施工噪音扰民，请查处。", "u3", 9),
    _m("n4", "锦绣花园小区夜间施工噪音", "锦绣花园小区旁边工地夜间施工，噪音扰民。", "u3", 10),
    _m("s1", "A5区明德小学乱收费", "明德小学向学生收取补课费和资料费，家长负担重。", "u4", 4),
    _m("s2", "明德小学收取补课费", "明德小学强制学生参加补课并收取补课费和资料费。", "u5", 6),
    _m("x1", "公交车站台破损", "人民路公交车站台顶棚破损漏雨。", "u6", 7),
    _m("x2", "咨询社保转移", "外地社保如何转入本市？", "u7", 8),
    _m("x3", "路灯不亮", "解放大道路灯晚上不亮，存在安全隐患。", "u8", 8, likes=3),
]


class TestCrafted:
    def test_clusters_and_ranking(self) -> None:
        issues = hot.find(CRAFTED, top=10)
        assert [sorted(i.keys) for i in issues] == [["n1", "n2", "n3", "n4"], ["s1", "s2"]]
        noise, school = issues
        assert (noise.rank, noise.messages, noise.people) == (1, 4, 3)
        assert noise.place == "锦绣花园小区"
        assert noise.first_at == datetime(2025, 3, 3, 10, 0)
        assert noise.last_at == datetime(2025, 3, 10, 10, 0)
        assert "噪音" in noise.keywords
        assert noise.title in {m.subject for m in CRAFTED[:4]}
        assert school.place == "明德小学"
        # one resident's two posts count twice at most: 4 posts by 3 people → volume 4
        assert noise.score == pytest.approx(
            hot.score(messages=4, people=3, places=1, likes=0, dislikes=0), abs=1e-4
        )

    def test_support_lifts_a_single_message(self) -> None:
        popular = _m(
            "p1", "金毛湾配套学校入学问题", "金毛湾小区配套学校迟迟不能入学。", "u9", 2, 900
        )
        issues = hot.find([*CRAFTED, popular], top=10)
        assert issues[0].keys == ["p1"]  # one post, 900 net likes: above the 4-post cluster
        lonely = _m("p2", "金毛湾配套学校入学问题", "金毛湾小区配套学校迟迟不能入学。", "u9", 2, 10)
        assert "p2" not in {k for i in hot.find([*CRAFTED, lonely]) for k in i.keys}

    def test_score_formula(self) -> None:
        assert hot.score(messages=1, people=1, places=1, likes=0, dislikes=0) == pytest.approx(
            0.6931 + 0.5 * 0.6931, abs=1e-4
        )
        # dislikes cancel likes, never below zero
        assert hot.score(messages=2, people=2, places=2, likes=5, dislikes=9) == pytest.approx(
            hot.score(messages=2, people=2, places=2, likes=0, dislikes=0)
        )

    def test_empty_input(self) -> None:
        assert hot.find([]) == []


class TestCsv:
    def test_cli_prints_the_top_issues_as_json(self, tmp_path: Path) -> None:
        path = tmp_path / "m.csv"
        lines = ["message_id,user,subject,time,detail,dislikes,likes"]
        lines += [
            f'{m.key},{m.person},{m.subject},{m.at:%Y-%m-%d %H:%M:%S},"{m.detail}",0,{m.likes}'
            for m in CRAFTED
        ]
        path.write_text("\n".join(lines), encoding="utf-8")
        result = run_cli("sqlite:///unused.db", "warnings", "hot", "--csv", str(path), "--top", "1")
        assert result.returncode == 0, result.stderr
        items = json.loads(result.stdout)
        assert len(items) == 1
        assert items[0]["messages"] == 4 and items[0]["place"] == "锦绣花园小区"
        assert sorted(items[0]["members"]) == ["n1", "n2", "n3", "n4"]

    def test_missing_columns_are_named(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.csv"
        path.write_text("title,body\na,b\n", encoding="utf-8")
        result = run_cli("sqlite:///unused.db", "warnings", "hot", "--csv", str(path))
        assert result.returncode == 2
        assert "subject" in json.loads(result.stdout)["error"]

    def test_period_filter(self) -> None:
        chosen = hot.within(CRAFTED, datetime(2025, 3, 5), datetime(2025, 3, 9))
        assert [m.key for m in chosen] == ["n2", "s2", "x1", "x2", "x3"]


@pytest.mark.skipif(not HOT_CSV.exists(), reason="real data not present")
def test_real_hot_csv_top_issues_are_the_known_ones() -> None:
    """The TipDM data's known hot issues: 伊景园滨河苑 parking sold with flats, the 丽发新城
    mixing plant noise (A2区), the 58车贷 fraud case (A4区)."""
    issues = hot.find(hot.read_csv(HOT_CSV), top=5)
    text = " ".join(f"{i.title} {i.place} {' '.join(i.keywords)}" for i in issues)
    for expected in ("伊景园", "丽发新城", "58"):
        assert expected in text
    assert max(i.people for i in issues) >= 40  # 伊景园滨河苑: some fifty residents
    assert issues[0].likes - issues[0].dislikes >= 1000  # 58车贷: thousands of likes
