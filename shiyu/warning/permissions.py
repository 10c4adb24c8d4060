from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

# the command centre and those who oversee it; grid workers and departments see events only
WARNING_READ = define(
    "warning:read", "查看预警与热点", roles={R.dispatcher, R.supervisor, R.leader}
)
WARNING_ACK = define("warning:ack", "确认预警", roles={R.dispatcher, R.leader})

WarningsRead = Annotated[Actor, requires(WARNING_READ)]
WarningsAck = Annotated[Actor, requires(WARNING_ACK)]
