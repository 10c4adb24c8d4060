from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    city = "city"
    district = "district"
    street = "street"
    community = "community"
    grid = "grid"
    compound = "compound"
    building = "building"
    unit = "unit"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    @property
    def parent_level(self) -> Level | None:
        return None if self is Level.city else _ORDER[self.rank - 1]

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]


_ORDER = list(Level)

_LABELS_ZH = {
    Level.city: "市",
    Level.district: "区县",
    Level.street: "街道乡镇",
    Level.community: "社区村",
    Level.grid: "网格",
    Level.compound: "小区",
    Level.building: "楼栋",
    Level.unit: "单元",
}

#: Code length per level, and how many leading digits a child must share with its parent.
#: 12-digit 统计用区划代码 for city..community; a grid appends a 3-digit serial to its
#: community; compounds and buildings append 3 digits, units 2.
CODE_LENGTH = {
    Level.city: 12,
    Level.district: 12,
    Level.street: 12,
    Level.community: 12,
    Level.grid: 15,
    Level.compound: 18,
    Level.building: 21,
    Level.unit: 23,
}
SIGNIFICANT_DIGITS = {
    Level.city: 4,
    Level.district: 6,
    Level.street: 9,
    Level.community: 12,
    Level.grid: 15,
    Level.compound: 18,
    Level.building: 21,
    Level.unit: 23,
}
