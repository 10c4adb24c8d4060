"""The rate formulas on their own (no database)."""

from __future__ import annotations

from shiyu.config import Settings
from shiyu.metrics.repository import Counts
from shiyu.metrics.service import rates


class TestFormulas:
    def test_three_rates_of_five_callbacks(self) -> None:
        c = Counts(
            callbacks=5,
            contacted=4,
            resolved=3,
            satisfied=3,
            basically_satisfied=1,
            dissatisfied=1,
        )
        r = rates(c, basic_weight=0.9)
        assert r.response_rate == 0.8  # 4 / 5
        assert r.resolution_rate == 0.6  # 3 / 5
        assert r.satisfaction_rate == 0.78  # (3 + 0.9 × 1) / 5 = 3.9 / 5

    def test_the_weight_is_a_parameter(self) -> None:
        c = Counts(callbacks=4, satisfied=1, basically_satisfied=2, dissatisfied=1)
        assert rates(c, basic_weight=0.5).satisfaction_rate == 0.5  # (1 + 0.5 × 2) / 4
        assert rates(c, basic_weight=1.0).satisfaction_rate == 0.75  # (1 + 2) / 4

    def test_handling_rates_share_the_due_denominator(self) -> None:
        c = Counts(
            due=8,
            signed_on_time=6,
            finished_on_time=5,
            closed=7,
            reworked=2,
            overdue=3,
            dispatches=10,
            returns=1,
        )
        r = rates(c, basic_weight=0.9)
        assert (r.timely_sign_rate, r.on_time_finish_rate, r.close_rate) == (0.75, 0.625, 0.875)
        assert (r.rework_rate, r.overdue_rate, r.return_rate) == (0.25, 0.375, 0.1)

    def test_zero_denominators_give_null_not_zero(self) -> None:
        r = rates(Counts(returns=0, dispatches=0), basic_weight=0.9)
        assert all(value is None for value in r.model_dump().values())

    def test_rates_are_rounded_to_six_places(self) -> None:
        assert rates(Counts(dispatches=7, returns=1), basic_weight=0.9).return_rate == 0.142857

    def test_default_weight_is_point_nine(self) -> None:
        assert Settings.model_fields["satisfaction_basic_weight"].default == 0.9
