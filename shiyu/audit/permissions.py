from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires
from shiyu.auth.enums import RoleCode as R

AUDIT_READ = define("audit:read", "查看操作留痕", roles={R.supervisor})

AuditRead = Annotated[Actor, requires(AUDIT_READ)]
