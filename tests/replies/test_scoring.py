from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiyu.replies import scoring

SUBJECT = "反映A7县泉塘小学校门口的交通问题"
DETAIL = "泉塘小学校门口每天上下学时车辆乱停，704路公交站设在学校旁边，经常堵车，存在安全隐患。"
GOOD = (
    "网友您好！来信收悉。经A7县交警大队现场核实，泉塘小学校门口上下学时段车辆较多，"
    "乱停车问题属实。交警大队已在该路段设立禁停标志，并安排警力在上下学时段值守疏导；"
    "704路公交站的位置，我们已与公交公司协商，预计下月底前调整到距校门100米以外。"
    "如有疑问，请拨打0731-84012345联系。感谢您的监督！"
)
TRANSFER = "网友：您好！您反映的问题已转交有关部门调查核处。2018年11月26日"
ASKED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _score(reply: str, **kw: object) -> scoring.ReplyScore:
    args: dict[str, object] = {
        "subject": SUBJECT,
        "detail": DETAIL,
        "reply": reply,
        "asked_at": ASKED,
        "replied_at": ASKED + timedelta(days=2),
        "deadline": ASKED + timedelta(days=7),
    }
    args.update(kw)
    return scoring.score_reply(**args)  # type: ignore[arg-type]


class TestScore:
    def test_a_substantive_reply_scores_high(self) -> None:
        result = _score(GOOD)
        assert result.score >= 75
        assert result.features["answers"] and result.features["action"]
        assert result.features["next_step"] and result.features["contact"]
        assert result.relevance >= 0.6

    def test_passing_it_on_scores_low(self) -> None:
        result = _score(TRANSFER)
        assert result.score < 50
        assert result.completeness <= 0.25

    def test_a_reply_about_something_else_loses_relevance(self) -> None:
        other = GOOD.replace("泉塘小学", "某商场").replace("704路公交站", "地下车库")
        assert _score(other).relevance < _score(GOOD).relevance

    def test_empty_reply(self) -> None:
        result = _score("")
        assert result.relevance == 0.0
        assert result.score < 25

    def test_weights_sum_to_one(self) -> None:
        assert sum(scoring.WEIGHTS.values()) == pytest.approx(1.0)
        assert sum(scoring.COMPLETENESS_WEIGHTS.values()) == pytest.approx(1.0)

    def test_very_long_and_odd_text_is_scored(self) -> None:
        result = _score("<p>经核实🙂</p>" * 5000, detail="繁體字內容" * 5000)
        assert 0 <= result.score <= 100


class TestTimeliness:
    @pytest.mark.parametrize(
        ("days", "expected"), [(3, 1.0), (7, 1.0), (14, 0.5), (21, 0.0), (60, 0.0)]
    )
    def test_linear_after_the_limit(self, days: int, expected: float) -> None:
        value = scoring.timeliness(ASKED, ASKED + timedelta(days=days), ASKED + timedelta(days=7))
        assert value == pytest.approx(expected)

    def test_no_deadline_is_on_time(self) -> None:
        assert scoring.timeliness(ASKED, ASKED + timedelta(days=90), None) == 1.0

    def test_late_reply_scores_lower(self) -> None:
        late = _score(GOOD, replied_at=ASKED + timedelta(days=30))
        assert late.timeliness == 0.0
        assert late.score == pytest.approx(_score(GOOD).score - 20, abs=0.2)
