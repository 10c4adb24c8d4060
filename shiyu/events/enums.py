from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    grid_patrol = "grid_patrol"
    resident = "resident"
    hotline_12345 = "hotline_12345"
    sensor = "sensor"
    video = "video"
    open311 = "open311"
    department = "department"


class Status(StrEnum):
    reported = "reported"  # 上报/受理
    accepted = "accepted"  # 立案
    rejected = "rejected"  # 不予受理
    dispatched = "dispatched"  # 派遣/交办
    returned = "returned"  # 退单
    signed = "signed"  # 签收
    handling = "handling"  # 处置中
    replied = "replied"  # 办结反馈
    self_resolved = "self_resolved"  # 自行处置, awaiting verification
    verified = "verified"  # 核查通过
    closed = "closed"  # 结案
    rated = "rated"  # 回访
    suspended = "suspended"  # 挂账/缓办
    cancelled = "cancelled"  # 作废
    merged = "merged"  # 并入主单


OPEN_STATUSES = frozenset(
    {
        Status.reported,
        Status.accepted,
        Status.dispatched,
        Status.returned,
        Status.signed,
        Status.handling,
        Status.replied,
        Status.self_resolved,
        Status.verified,
    }
)
#: Statuses in which a handling unit's clock runs.
CLOCK_STATUSES = frozenset({Status.dispatched, Status.signed, Status.handling})


class Urgency(StrEnum):
    normal = "normal"
    urgent = "urgent"
    emergency = "emergency"


class AppealKind(StrEnum):
    consultation = "consultation"  # 咨询
    help = "help"  # 求助
    complaint = "complaint"  # 投诉
    report = "report"  # 举报
    suggestion = "suggestion"  # 建议


class Rating(StrEnum):
    satisfied = "satisfied"  # 满意
    basically_satisfied = "basically_satisfied"  # 基本满意
    dissatisfied = "dissatisfied"  # 不满意


class Light(StrEnum):
    none = "none"
    green = "green"
    yellow = "yellow"
    red = "red"


class AssignmentRole(StrEnum):
    lead = "lead"  # 主办
    assist = "assist"  # 协办


class WhistleType(StrEnum):
    daily = "daily"  # 日常哨
    tough = "tough"  # 攻坚哨
    emergency = "emergency"  # 应急哨


class AttachmentKind(StrEnum):
    photo = "photo"
    before = "before"
    after = "after"
    file = "file"


class CategoryKind(StrEnum):
    event = "event"  # 数字城管 事件
    component = "component"  # 数字城管 部件
    appeal = "appeal"  # 12345 诉求
