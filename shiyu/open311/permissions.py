from __future__ import annotations

from typing import Annotated

from shiyu.auth.access import Actor, define, requires

# admins only (admins hold every code); the GeoReport endpoints themselves use api keys
OPEN311_MANAGE = define("open311:manage", "管理 Open311 接入客户端", roles=set())

Open311Manage = Annotated[Actor, requires(OPEN311_MANAGE)]
