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

EVENT_READ = define("event:read", "查看事件", roles=_STAFF)
EVENT_CREATE = define(
    "event:create", "上报事件", roles={R.grid_worker, R.dispatcher, R.department_handler}
)
# who may take each lifecycle action is in events/transitions.py (roles per action)
EVENT_ACT = define(
    "event:act", "办理事件", roles={R.grid_worker, R.dispatcher, R.department_handler}
)
EVENT_EXPORT = define("event:export", "导出事件", roles={R.dispatcher, R.supervisor, R.leader})

EventsRead = Annotated[Actor, requires(EVENT_READ)]
EventsCreate = Annotated[Actor, requires(EVENT_CREATE)]
EventsAct = Annotated[Actor, requires(EVENT_ACT)]
EventsExport = Annotated[Actor, requires(EVENT_EXPORT)]
