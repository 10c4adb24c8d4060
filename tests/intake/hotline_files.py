"""Small 12345 export files built in tests: CSV (UTF-8 or GB18030) and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import openpyxl  # type: ignore[import-untyped]

HEADER = ["工单号", "标题", "内容", "类别", "来电时间", "电话", "姓名", "地址", "经度", "纬度"]
MAPPING = {
    "name": "city12345",
    "source": "city12345",
    "label": "市12345热线",
    "columns": {
        "order_id": "工单号",
        "title": "标题",
        "description": "内容",
        "category": "类别",
        "reported_at": "来电时间",
        "phone": "电话",
        "name": "姓名",
        "address": "地址",
        "lng": "经度",
        "lat": "纬度",
    },
    "category_map": {"城乡建设": "AP01", "环境保护": "AP05"},
}


def row(order_id: str, title: str = "路灯不亮", **fields: Any) -> list[Any]:
    values: dict[str, Any] = {
        "工单号": order_id,
        "标题": title,
        "内容": f"{title}，请尽快处理",
        "类别": "城乡建设",
        "来电时间": "2026-10-01 09:30:00",
        "电话": "13800138000",
        "姓名": "张三",
        "地址": "解放路1号",
        "经度": "",
        "纬度": "",
    }
    values.update(fields)
    return [values[h] for h in HEADER]


def to_csv(rows: list[list[Any]], *, encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def to_xlsx(rows: list[list[Any]], *, header: list[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text)
