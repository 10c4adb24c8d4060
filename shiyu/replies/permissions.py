from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

REPLY_QUALITY_READ = define(
    "reply_quality:read", "查看答复质量评分", roles={R.supervisor, R.leader, R.dispatcher}
)

ReplyQualityRead = Annotated[Actor, requires(REPLY_QUALITY_READ)]
