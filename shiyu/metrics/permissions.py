from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

METRICS_READ = define("metrics:read", "查看考核指标", roles={R.dispatcher, R.supervisor, R.leader})

MetricsRead = Annotated[Actor, requires(METRICS_READ)]
