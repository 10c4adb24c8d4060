from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

ROUTING_READ = define(
    "routing:read", "查看权责清单和派遣建议准确率", roles={R.dispatcher, R.supervisor, R.leader}
)
ROUTING_MANAGE = define("routing:manage", "维护权责清单", roles=set())

RoutingRead = Annotated[Actor, requires(ROUTING_READ)]
RoutingManage = Annotated[Actor, requires(ROUTING_MANAGE)]
