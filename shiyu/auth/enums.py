from __future__ import annotations

from enum import StrEnum


class RoleCode(StrEnum):
    resident = "resident"
    grid_worker = "grid_worker"
    dispatcher = "dispatcher"
    department_handler = "department_handler"
    supervisor = "supervisor"
    leader = "leader"
    mediator = "mediator"
    admin = "admin"


ROLE_NAMES_ZH = {
    RoleCode.resident: "居民",
    RoleCode.grid_worker: "网格员",
    RoleCode.dispatcher: "综治中心调度员",
    RoleCode.department_handler: "职能部门承办人",
    RoleCode.supervisor: "督查员",
    RoleCode.leader: "领导",
    RoleCode.mediator: "调解员",
    RoleCode.admin: "系统管理员",
}


class DepartmentLevel(StrEnum):
    municipal = "municipal"
    district = "district"


class GridPost(StrEnum):
    """The 'five heads' who work with a grid worker (网格长、街长、党小组长、楼长、单元长)."""

    grid_chief = "grid_chief"
    street_chief = "street_chief"
    party_group_leader = "party_group_leader"
    building_chief = "building_chief"
    unit_chief = "unit_chief"


GRID_POST_NAMES_ZH = {
    GridPost.grid_chief: "网格长",
    GridPost.street_chief: "街长",
    GridPost.party_group_leader: "党小组长",
    GridPost.building_chief: "楼长",
    GridPost.unit_chief: "单元长",
}
