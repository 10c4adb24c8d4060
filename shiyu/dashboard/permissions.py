from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

DASHBOARD_READ = define(
    "dashboard:read", "查看指挥中心", roles={R.dispatcher, R.supervisor, R.leader}
)

DashboardRead = Annotated[Actor, requires(DASHBOARD_READ)]
