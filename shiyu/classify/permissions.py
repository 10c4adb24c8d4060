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

CLASSIFIER_PREDICT = define("classifier:predict", "智能分类", roles=_STAFF)
# model files are unpickled: only administrators may upload or activate them
CLASSIFIER_MANAGE = define("classifier:manage", "管理分类模型", roles=set())

ClassifierPredict = Annotated[Actor, requires(CLASSIFIER_PREDICT)]
ClassifierManage = Annotated[Actor, requires(CLASSIFIER_MANAGE)]
