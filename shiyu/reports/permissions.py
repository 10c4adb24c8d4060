from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

REPORT_READ = define("report:read", "查看研判报告", roles={R.dispatcher, R.supervisor, R.leader})

ReportsRead = Annotated[Actor, requires(REPORT_READ)]
