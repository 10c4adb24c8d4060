from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

_STAFF = {
    R.grid_worker,
    R.dispatcher,
    R.department_handler,
    R.supervisor,
    R.leader,
    R.mediator,
}

JURISDICTION_READ = define("jurisdiction:read", "查看辖区和网格", roles=_STAFF)
JURISDICTION_WRITE = define("jurisdiction:write", "导入和维护辖区网格", roles=set())
# Placing a point in a grid reveals only public administrative names, and every channel
# (including residents' reports) needs it city-wide, so it is not scoped.
LOCATE = define("jurisdiction:locate", "坐标定位网格", roles={*_STAFF, R.resident})

JurisdictionsRead = Annotated[Actor, requires(JURISDICTION_READ)]
JurisdictionsWrite = Annotated[Actor, requires(JURISDICTION_WRITE)]
Locate = Annotated[Actor, requires(LOCATE)]
