from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

DUPLICATE_READ = define(
    "duplicate:read",
    "查看重复工单建议",
    roles={R.dispatcher, R.grid_worker, R.supervisor, R.leader},
)
DUPLICATE_DECIDE = define("duplicate:decide", "合并或驳回重复工单建议", roles={R.dispatcher})

DuplicatesRead = Annotated[Actor, requires(DUPLICATE_READ)]
DuplicatesDecide = Annotated[Actor, requires(DUPLICATE_DECIDE)]
