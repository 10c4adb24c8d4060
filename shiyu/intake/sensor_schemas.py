"""Request and response bodies of the alarm webhook and the alarm-source admin API."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    model_validator,
)

from shiyu.events.enums import Urgency
from shiyu.kit.schemas import ORMModel

#: Control characters other than tab and line breaks: PostgreSQL refuses NUL in text, and
#: none of them belongs in an alarm.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SOURCE_CODE = r"^[a-z0-9][a-z0-9._\-]{1,47}$"
ALARM_TYPE = r"^[a-z0-9][a-z0-9_.\-]{0,31}$"
UNIT_CODE = r"^\d{12,23}$"


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Text = Annotated[str, AfterValidator(_no_control)]


class SourceKind(StrEnum):
    sensor = "sensor"  # 物联感知设备
    video = "video"  # 视频智能分析


class AlarmRule(BaseModel):
    """How one alarm type becomes an event."""

    category_code: str | None = Field(default=None, max_length=32)
    urgency: Urgency = Urgency.normal
    label: Text = Field(default="", max_length=32, description="告警类型的中文名，用于事件标题")


AlarmType = Annotated[str, BeforeValidator(_lower), Field(pattern=ALARM_TYPE)]
Mapping = Annotated[dict[AlarmType, AlarmRule], Field(max_length=100)]


class AlarmIn(BaseModel):
    """One alarm as the sending system posts it. Fields it does not know are ignored."""

    model_config = ConfigDict(str_strip_whitespace=True)

    alarm_id: Text = Field(
        min_length=1, max_length=128, description="告警在来源系统中的编号，重复发送不会重复立案"
    )
    type: AlarmType = Field(
        default="other",
        pattern=ALARM_TYPE,
        description="告警类型，如 dust、flood、smoke、fire、crowding、burning",
    )
    occurred_at: datetime | None = Field(
        default=None, description="发生时间；不带时区时按北京时间理解"
    )
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: Text = Field(default="", max_length=300)
    device_id: Text | None = Field(default=None, max_length=64)
    device_name: Text | None = Field(default=None, max_length=100, description="设备名称或点位")
    value: float | None = Field(default=None, allow_inf_nan=False, description="监测值")
    unit: Text = Field(default="", max_length=16)
    level: Text | None = Field(default=None, max_length=32, description="告警等级")
    description: Text = Field(default="", max_length=2000)
    image_url: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^https?://[^\s\x00-\x1f\x7f]+$",
        description="抓拍图片地址（只记录，不下载）",
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> AlarmIn:
        if (self.lng is None) != (self.lat is None):
            raise ValueError("lng and lat go together")
        return self


class AlarmReceipt(BaseModel):
    code: str
    status: str
    duplicate: bool


class SourceCreate(BaseModel):
    code: str = Field(pattern=SOURCE_CODE, description="来源编码，出现在告警地址中")
    name: Text = Field(min_length=1, max_length=100)
    kind: SourceKind = SourceKind.sensor
    owner_code: str = Field(pattern=UNIT_CODE, description="无法落格的告警由该单位受理")
    mapping: Mapping | None = Field(default=None, description="告警类型映射；不填用默认映射")
    is_active: StrictBool = True


class SourceUpdate(BaseModel):
    name: Text | None = Field(default=None, min_length=1, max_length=100)
    owner_code: str | None = Field(default=None, pattern=UNIT_CODE)
    mapping: Mapping | None = None
    is_active: StrictBool | None = None


class RotateIn(BaseModel):
    grace_minutes: int = Field(
        default=60, ge=0, le=7 * 24 * 60, description="旧密钥继续有效的分钟数，0 表示立即失效"
    )


class SourceRead(ORMModel):
    code: str
    name: str
    kind: SourceKind
    owner_code: str
    mapping: dict[str, AlarmRule]
    is_active: bool
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None
    previous_secret_until: datetime | None


class SourceWithSecret(SourceRead):
    """Only in the answer to creating a source or rotating its secret: never shown again."""

    secret: str
    webhook_path: str
    signing: str
