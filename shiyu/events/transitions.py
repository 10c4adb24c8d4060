"""The lifecycle as data: which action moves an event from which statuses to which, and who
may take it. `service.apply_transition` is the one function that applies an entry: it checks
the table, runs the action's guard and side effects, writes the timeline and the audit trail
and recomputes the deadlines."""

from __future__ import annotations

from dataclasses import dataclass

from shiyu.auth.enums import RoleCode as R
from shiyu.events.enums import OPEN_STATUSES
from shiyu.events.enums import Status as S  # noqa: N817


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[S]
    #: None: the status does not change (extensions, escalation, whistles ...)
    target: S | None
    roles: frozenset[str]
    needs_reason: bool = False


def _t(
    action: str,
    label: str,
    sources: set[S] | frozenset[S],
    target: S | None,
    roles: set[R],
    *,
    reason: bool = False,
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), reason)


CENTRE = {R.dispatcher}
HANDLER = {R.department_handler}
ON_SITE = {R.dispatcher, R.grid_worker}
CLOCK = {S.dispatched, S.signed, S.handling}
PENDING_DISPATCH = {S.reported, S.accepted, S.returned}

TABLE: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", "立案", {S.reported}, S.accepted, CENTRE),
        _t("reject", "不予受理", {S.reported}, S.rejected, CENTRE, reason=True),
        _t("merge", "合并到主单", {S.reported, S.accepted}, S.merged, CENTRE),
        _t("dispatch", "派遣", {S.accepted, S.returned}, S.dispatched, CENTRE),
        _t("rule_final", "审定派遣", {S.returned}, S.dispatched, CENTRE, reason=True),
        _t("return", "退单", {S.dispatched}, S.returned, HANDLER, reason=True),
        _t("sign", "签收", {S.dispatched}, S.signed, HANDLER),
        _t("start", "开始处置", {S.signed}, S.handling, HANDLER),
        _t("assist_reply", "协办反馈", CLOCK, None, HANDLER),
        _t("reply", "办结反馈", {S.signed, S.handling}, S.replied, HANDLER),
        _t("verify", "核查通过", {S.replied, S.self_resolved}, S.verified, ON_SITE),
        _t("rework", "核查不通过（返工）", {S.replied}, S.handling, ON_SITE, reason=True),
        _t("self_resolve", "自行处置", {S.reported}, S.self_resolved, {R.grid_worker}),
        _t(
            "reject_self_resolution",
            "自行处置不通过",
            {S.self_resolved},
            S.accepted,
            CENTRE,
            reason=True,
        ),
        _t("close", "结案", {S.verified}, S.closed, CENTRE),
        # a dissatisfied rating sends the event back to its lead unit (重办), see service
        _t("rate", "回访评价", {S.closed}, S.rated, {R.dispatcher, R.resident}),
        _t(
            "suspend",
            "挂账/缓办",
            {S.accepted, S.returned, *CLOCK},
            S.suspended,
            CENTRE,
            reason=True,
        ),
        _t("resume", "恢复办理", {S.suspended}, S.accepted, CENTRE),
        _t("cancel", "作废", {*OPEN_STATUSES, S.suspended}, S.cancelled, CENTRE, reason=True),
        _t("escalate", "上报上级", PENDING_DISPATCH, None, ON_SITE, reason=True),
        _t("request_extension", "申请延期", CLOCK, None, HANDLER, reason=True),
        _t("decide_extension", "审批延期", CLOCK, None, CENTRE),
        _t("whistle", "吹哨", {S.accepted, S.returned, *CLOCK}, None, CENTRE, reason=True),
        _t("checkin", "报到", {S.accepted, S.returned, *CLOCK}, None, HANDLER),
        _t(
            "rate_checkin",
            "评价报到部门",
            {S.accepted, S.returned, *CLOCK, S.replied, S.verified, S.closed},
            None,
            CENTRE,
        ),
    ]
}


def allowed_actions(status: str, roles: frozenset[str] | set[str]) -> list[str]:
    """Actions the table allows from `status` for someone holding `roles`."""
    return [t.action for t in TABLE.values() if status in t.sources and t.roles & set(roles)]
