"""The metrics of the fixed data set (tests/metrics/dataset.py), computed by hand below.

Period: March 2025, China time, [03-01 00:00, 04-01 00:00). The cohort (应签收 = 应结案) of a
unit is its events dispatched in the period, minus returned/suspended/cancelled/merged ones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shiyu.config import Settings
from shiyu.errors import InvalidInput, NotFound
from shiyu.jurisdiction.enums import Level
from shiyu.metrics import service
from shiyu.metrics.schemas import MetricFigures, UnitMetricsReport
from tests.factories.events import actor_of
from tests.metrics.dataset import FROM, TO, DataSet, at

# Department A seen from street A (E12 lies in street A2, E13 in street B: out of scope).
#   cohort: E1 (dispatched exactly at the period start: included), E2, E3 (re-dispatched
#   03-20 by its 重办), E5, E11 → due = 5. Not in it: E4 (lead is now C), E6 (cancelled),
#   E7 (dispatched in February), E8 (dispatched exactly at the period end: excluded).
DEP_A_STREET_A = {
    "due": 5,
    "signed": 4,  # E1, E2, E5, E11 (E3's signature was reset by the 重办)
    "signed_on_time": 3,  # E1, E2, E11 (E5 signed 15:00 > 11:00)
    "replied": 3,  # E1, E2, E11
    "finished_on_time": 2,  # E1, E11 (E2 replied 03-12 > 03-10)
    "closed": 3,  # E1, E2, E11
    "reworked": 1,  # E3
    "overdue": 3,  # E2 replied late; E3, E5 open past their deadlines (03-27, 03-21)
    "dispatches": 7,  # dispatch rows naming A in March: E1, E2, E3, E11, E4, E5, E6
    "returns": 1,  # E4, returned by A's handler on 03-12
    "callbacks": 5,  # rated in March: E7 (03-02), E1, E11, E2, E3
    "contacted": 5,
    "resolved": 3,  # E7, E1, E2 (E11 said not resolved, E3 dissatisfied)
    "satisfied": 3,  # E7, E1, E11
    "basically_satisfied": 1,  # E2
    "dissatisfied": 1,  # E3
}
DEP_A_STREET_A_RATES = {
    "timely_sign_rate": 0.6,  # 3 / 5
    "on_time_finish_rate": 0.4,  # 2 / 5
    "close_rate": 0.6,  # 3 / 5
    "rework_rate": 0.2,  # 1 / 5
    "overdue_rate": 0.6,  # 3 / 5
    "return_rate": 0.142857,  # 1 / 7
    "response_rate": 1.0,  # 5 / 5
    "resolution_rate": 0.6,  # 3 / 5
    "satisfaction_rate": 0.78,  # (3 + 0.9 × 1) / 5 = 3.9 / 5
}
# Department C: E4 (dispatched to C 03-13) and E9, both signed and replied on time, closed.
DEP_C_STREET_A = {
    "due": 2,
    "signed": 2,
    "signed_on_time": 2,
    "replied": 2,
    "finished_on_time": 2,
    "closed": 2,
    "reworked": 0,
    "overdue": 0,
    "dispatches": 2,  # E4 (03-13), E9 (03-25)
    "returns": 0,
    "callbacks": 2,  # E4 satisfied, E9 basically satisfied but not contacted
    "contacted": 1,
    "resolved": 1,
    "satisfied": 1,
    "basically_satisfied": 1,
    "dissatisfied": 0,
}
DEP_C_STREET_A_RATES = {
    "timely_sign_rate": 1.0,
    "on_time_finish_rate": 1.0,
    "close_rate": 1.0,
    "rework_rate": 0.0,
    "overdue_rate": 0.0,
    "return_rate": 0.0,  # 0 / 2
    "response_rate": 0.5,  # 1 / 2
    "resolution_rate": 0.5,  # 1 / 2
    "satisfaction_rate": 0.95,  # (1 + 0.9 × 1) / 2
}


def _row(report: UnitMetricsReport, dep_id: int) -> MetricFigures:
    return next(i for i in report.items if i.department_id == dep_id)


def _units(session: Session, settings: Settings, data: DataSet, role: str, **kw: Any) -> Any:
    actor = actor_of(data.world, role)
    return service.unit_metrics(session, settings, actor, start=FROM, end=TO, **kw)


class TestPerDepartment:
    def test_department_a_in_street_a(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        report = _units(session, settings, data, "dispatcher")
        row = _row(report, data.world.dep_a.id)
        assert row.counts.model_dump() == DEP_A_STREET_A
        assert row.rates.model_dump() == DEP_A_STREET_A_RATES

    def test_department_c_in_street_a(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        row = _row(_units(session, settings, data, "dispatcher"), data.dep_c.id)
        assert row.counts.model_dump() == DEP_C_STREET_A
        assert row.rates.model_dump() == DEP_C_STREET_A_RATES

    def test_total_is_the_sum_of_the_rows(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        total = _units(session, settings, data, "dispatcher").total
        assert total.counts.due == 7  # 5 + 2
        assert total.counts.dispatches == 9  # 7 + 2
        assert total.rates.satisfaction_rate == 0.828571  # (4 + 0.9 × 2) / 7 = 5.8 / 7

    def test_a_district_sees_more_of_department_a(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        # The district A admin also sees E12 (street A2): dispatched 03-05, signed and replied
        # on time, closed, rated satisfied → every count of E12 adds one except reworked,
        # overdue, returns, basically_satisfied and dissatisfied.
        row = _row(_units(session, settings, data, "admin"), data.world.dep_a.id)
        assert row.counts.due == 6
        assert row.counts.signed_on_time == 4
        assert row.counts.overdue == 3
        assert row.counts.dispatches == 8
        assert row.rates.close_rate == 0.666667  # 4 / 6
        assert row.rates.satisfaction_rate == 0.816667  # (4 + 0.9) / 6 = 4.9 / 6

    def test_naming_a_unit_narrows_the_events(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        report = _units(session, settings, data, "admin", jurisdiction_code=data.street_a2)
        row = _row(report, data.world.dep_a.id)
        assert report.scope_code == data.street_a2
        assert (row.counts.due, row.counts.callbacks) == (1, 1)  # E12 only

    def test_only_readable_departments_are_listed(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        report = _units(session, settings, data, "dispatcher")
        ids = {i.department_id for i in report.items}
        assert ids == {data.world.dep_a.id, data.dep_c.id}  # not district B's department

    def test_basic_weight_comes_from_settings(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        half = settings.model_copy(update={"satisfaction_basic_weight": 0.5})
        report = _units(session, half, data, "dispatcher")
        assert report.satisfaction_basic_weight == 0.5
        assert _row(report, data.world.dep_a.id).rates.satisfaction_rate == 0.7  # 3.5 / 5


class TestPeriod:
    def test_open_events_are_judged_at_as_of(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        # On 03-22: E5 (deadline 03-21 09:00) is overdue, E3 (deadline 03-27 10:00) is not
        # yet, E2 replied late either way → overdue = 2 (E2, E5) of 5.
        report = _units(session, settings, data, "dispatcher", as_of=at(3, 22))
        row = _row(report, data.world.dep_a.id)
        assert row.counts.overdue == 2
        assert row.rates.overdue_rate == 0.4

    def test_half_open_period_boundaries(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        # [03-01 00:00, 03-05 09:00): E1 (03-01 00:00) and E2 (03-03) dispatched; E3 and E12
        # at 03-05 09:00 are not. Callbacks: E7 (03-02), E1 (03-04).
        actor = actor_of(data.world, "dispatcher")
        report = service.unit_metrics(session, settings, actor, start=FROM, end=at(3, 5))
        row = _row(report, data.world.dep_a.id)
        assert (row.counts.due, row.counts.dispatches, row.counts.callbacks) == (2, 2, 2)

    def test_naive_times_are_china_time(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        report = service.unit_metrics(
            session, settings, actor, start=datetime(2025, 3, 1), end=datetime(2025, 4, 1)
        )
        assert report.period_from == FROM
        assert _row(report, data.world.dep_a.id).counts.due == 5

    def test_empty_period_has_rows_with_null_rates(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        report = service.unit_metrics(
            session, settings, actor, start=datetime(2024, 1, 1), end=datetime(2024, 2, 1)
        )
        assert len(report.items) == 2
        for item in [*report.items, report.total]:
            assert set(item.counts.model_dump().values()) == {0}
            assert set(item.rates.model_dump().values()) == {None}

    def test_end_before_start_is_refused(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        with pytest.raises(InvalidInput) as err:
            service.unit_metrics(session, settings, actor, start=TO, end=FROM)
        assert err.value.details[0]["loc"] == ["query", "to"]


class TestPerJurisdiction:
    def test_streets_of_district_a(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "admin")  # district A
        report = service.jurisdiction_metrics(session, settings, actor, start=FROM, end=TO)
        rows = {i.code: i for i in report.items}
        assert list(rows) == [data.world.street_a, data.street_a2]
        street_a = rows[data.world.street_a]
        # Street A = departments A and C there: due 5 + 2 = 7, on-time signatures 3 + 2 = 5,
        # on-time replies 2 + 2 = 4, closed 3 + 2 = 5, dispatches 7 + 2 = 9 (E4 counts twice:
        # to A, then to C), callbacks 5 + 2 = 7, contacted 5 + 1 = 6, resolved 3 + 1 = 4,
        # satisfied 3 + 1 = 4, basically satisfied 1 + 1 = 2.
        assert street_a.rates.model_dump() == {
            "timely_sign_rate": 0.714286,  # 5 / 7
            "on_time_finish_rate": 0.571429,  # 4 / 7
            "close_rate": 0.714286,  # 5 / 7
            "rework_rate": 0.142857,  # 1 / 7
            "overdue_rate": 0.428571,  # 3 / 7
            "return_rate": 0.111111,  # 1 / 9
            "response_rate": 0.857143,  # 6 / 7
            "resolution_rate": 0.571429,  # 4 / 7
            "satisfaction_rate": 0.828571,  # (4 + 0.9 × 2) / 7
        }
        a2 = rows[data.street_a2]
        assert (a2.counts.due, a2.counts.closed, a2.counts.callbacks) == (1, 1, 1)  # E12
        assert report.total.counts.due == 8

    def test_districts_for_the_city(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        from shiyu.auth.service import actor_for

        assert data.world.city_admin is not None
        actor = actor_for(data.world.city_admin, "city")
        report = service.jurisdiction_metrics(
            session, settings, actor, start=FROM, end=TO, level=Level.district
        )
        rows = {i.code: i for i in report.items}
        district_b = rows[data.world.dep_b.area_code]
        # E13 only: dispatched, never signed, past its deadline; nobody called back.
        assert district_b.counts.due == district_b.counts.overdue == 1
        assert district_b.rates.timely_sign_rate == 0.0
        assert district_b.rates.satisfaction_rate is None
        assert rows[data.world.dep_a.area_code].counts.due == 8

    def test_a_street_sees_only_itself(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        report = service.jurisdiction_metrics(session, settings, actor, start=FROM, end=TO)
        assert [i.code for i in report.items] == [data.world.street_a]
        with pytest.raises(NotFound):
            service.jurisdiction_metrics(
                session, settings, actor, start=FROM, end=TO, jurisdiction_code=data.street_a2
            )

    def test_communities_with_and_without_events(
        self, session: Session, settings: Settings, data: DataSet
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        report = service.jurisdiction_metrics(
            session, settings, actor, start=FROM, end=TO, level=Level.community
        )
        first, second = report.items  # every street A event lies in its first community
        assert first.counts.due == 7
        assert second.counts.due == 0
        assert second.rates.close_rate is None

    @pytest.mark.parametrize("level", [Level.district, Level.building])
    def test_level_outside_the_range_is_refused(
        self, session: Session, settings: Settings, data: DataSet, level: Level
    ) -> None:
        actor = actor_of(data.world, "dispatcher")
        with pytest.raises(InvalidInput) as err:
            service.jurisdiction_metrics(session, settings, actor, start=FROM, end=TO, level=level)
        assert err.value.details[0]["loc"] == ["query", "level"]
