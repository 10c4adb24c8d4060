"""`python -m bench.bench_hotline`: bulk 12345 import speed on this machine.

Generates a synthetic hotline export (default 100,000 rows, realistic field lengths, a phone
and a point on most rows, a few bad rows) in a temporary directory, builds a migrated database
with a small city (SQLite in the temp dir, or `--postgres URL` which must point at an empty
database), then imports the file through the same service the CLI and the API use, committing
every batch. It measures:

- `import`: the first run (every row new): wall seconds, rows/s, and this process's CPU seconds;
- `reimport`: the same file again (every row found by order id, nothing written);
- `tokenise_only`: `events.search.document_text` alone on the same rows, the full-text tokens
  every event stores (jieba), to show how much of the import it takes.

One JSON object goes to stdout; progress to stderr. Call `run(...)` from other code.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_ROWS_PER_SECOND = 5_000
CITY = "420100000000"
DISTRICT = "420102000000"
STREET = "420102001000"
COMMUNITY = "420102001001"
BASE_LNG, BASE_LAT, STEP = 114.0, 30.0, 0.01
HEADER = [
    "工单编号", "标题", "诉求内容", "分类", "受理时间", "来电号码", "来电人", "地址", "经度",
    "纬度", "诉求类型",
]  # fmt: skip
PLACES = ["解放路", "中山大道", "建设二路", "江汉路", "光谷大道", "汉阳大道", "民主路", "和平里"]
PROBLEMS = [
    ("噪音扰民", "夜间施工噪音很大，影响居民休息，希望有关部门尽快处理。"),
    ("路灯不亮", "小区门口路灯连续多日不亮，晚上出行很不安全，请尽快维修。"),
    ("占道经营", "早晚高峰有商贩在人行道摆摊，行人只能走机动车道，存在安全隐患。"),
    ("垃圾清运不及时", "垃圾桶已经满溢好几天没有清运，气味很大，夏天容易滋生蚊虫。"),
    ("停车收费不合理", "物业擅自提高地面停车费，业主多次反映无果，请求有关部门核查。"),
    ("供水水压低", "高层住户水压很低，早晚用水高峰基本没有水，已影响正常生活。"),
]
CATEGORIES = ["城乡建设", "劳动和社会保障", "教育文体", "商贸旅游", "环境保护", "卫生计生"]
KINDS = ["投诉", "咨询", "求助", "建议", "举报"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


def log(message: str) -> None:
    print(f"[bench_hotline] {message}", file=sys.stderr, flush=True)


def _row(i: int, rnd: random.Random) -> list[str]:
    title, text = rnd.choice(PROBLEMS)
    place = rnd.choice(PLACES)
    number = rnd.randint(1, 300)
    description = f"{place}{number}号附近，{text}（来电第{i}次反映，工单流水{i:06d}）"
    with_point = rnd.random() < 0.8
    lng = BASE_LNG + rnd.random() * 4 * STEP if with_point else None
    lat = BASE_LAT + rnd.random() * STEP if with_point else None
    day = 1 + i % 28
    return [
        f"GD2026{i:08d}",
        f"{place}{title}",
        description,
        rnd.choice(CATEGORIES),
        f"2026-10-{day:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}",
        f"1{rnd.randint(3, 9)}{rnd.randint(0, 999_999_999):09d}" if rnd.random() < 0.9 else "",
        rnd.choice(SURNAMES) + rnd.choice(["先生", "女士", "某某"]),
        f"江城市第一区{place}{number}号",
        f"{lng:.6f}" if lng is not None else "",
        f"{lat:.6f}" if lat is not None else "",
        rnd.choice(KINDS),
    ]


def write_file(path: Path, rows: int, *, seed: int = 12345, bad_every: int = 1000) -> int:
    """A synthetic export; every `bad_every`-th row has a malformed time. Returns bad rows."""
    rnd = random.Random(seed)
    bad = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(1, rows + 1):
            row = _row(i, rnd)
            if bad_every and i % bad_every == 0:
                row[4] = "昨天下午"
                bad += 1
            writer.writerow(row)
    return bad


def _city_features() -> list[dict[str, Any]]:
    def feature(code: str, name: str, level: str, parent: str | None, geom: Any = None) -> Any:
        props = {"code": code, "name": name, "level": level, "parent_code": parent}
        return {"type": "Feature", "properties": props, "geometry": geom}

    features = [
        feature(CITY, "江城市", "city", None),
        feature(DISTRICT, "第一区", "district", CITY),
        feature(STREET, "一街道", "street", DISTRICT),
        feature(COMMUNITY, "一社区", "community", STREET),
    ]
    for g in range(4):
        lng = BASE_LNG + g * STEP
        ring = [[lng, BASE_LAT], [lng + STEP, BASE_LAT], [lng + STEP, BASE_LAT + STEP]]
        ring += [[lng, BASE_LAT + STEP], [lng, BASE_LAT]]
        geom = {"type": "Polygon", "coordinates": [ring]}
        features.append(
            feature(f"{COMMUNITY}{g + 1:03d}", f"第{g + 1}网格", "grid", COMMUNITY, geom)
        )
    return features


def _prepare(url: str) -> None:
    from shiyu.auth.access import system_actor
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.intake import hotline
    from shiyu.jurisdiction import service as jurisdictions
    from shiyu.migrate import upgrade

    upgrade(url)
    db = Database(Settings(database_url=url))
    with db.transaction() as session:
        jurisdictions.import_features(
            session, system_actor(), _city_features(), source_fingerprint="bench"
        )
        hotline.create_mapping(
            session,
            system_actor(),
            hotline.MappingCreate(
                name="bench",
                source="bench",
                columns={
                    "order_id": "工单编号",
                    "title": "标题",
                    "description": "诉求内容",
                    "category": "分类",
                    "reported_at": "受理时间",
                    "phone": "来电号码",
                    "name": "来电人",
                    "address": "地址",
                    "lng": "经度",
                    "lat": "纬度",
                    "appeal_kind": "诉求类型",
                },
                category_map=hotline.APPEALS_MAPPING["category_map"],
            ),
        )
    db.dispose()


def _import_once(url: str, path: Path, batch_size: int | None) -> dict[str, Any]:
    from shiyu.auth.access import system_actor
    from shiyu.config import Settings
    from shiyu.db import Database
    from shiyu.intake import hotline

    db = Database(Settings(database_url=url))
    data = path.read_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    with db.session() as session:

        def checkpoint(_job: Any) -> None:
            session.commit()

        report = hotline.import_file(
            session,
            Settings(database_url=url),
            system_actor(),
            mapping_name="bench",
            filename=path.name,
            data=data,
            checkpoint=checkpoint,
            batch_size=batch_size,
        )
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.dispose()
    return {
        "rows": report.rows_total,
        "created": report.created,
        "unchanged": report.unchanged,
        "failed": report.failed,
        "seconds": round(wall, 2),
        "rows_per_second": round(report.rows_total / wall, 1),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_second": round(report.rows_total / cpu, 1) if cpu else None,
    }


def _tokenise_only(path: Path, limit: int) -> dict[str, Any]:
    from shiyu.events import search

    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))[1 : limit + 1]
    search.document_text("预热")  # loads the dictionary
    cpu = time.process_time()
    for row in rows:
        search.document_text(row[1], row[2], row[7])
    cpu = time.process_time() - cpu
    return {
        "rows": len(rows),
        "cpu_seconds": round(cpu, 2),
        "rows_per_cpu_second": round(len(rows) / cpu, 1) if cpu else None,
    }


def run(
    rows: int = 100_000,
    *,
    database_url: str | None = None,
    batch_size: int | None = None,
    keep: bool = False,
) -> dict[str, Any]:
    """Generate, import, re-import; returns the measurements as a dict."""
    workdir = Path(tempfile.mkdtemp(prefix="shiyu-bench-hotline-"))
    try:
        url = database_url or f"sqlite:///{workdir / 'bench.db'}"
        path = workdir / "hotline.csv"
        started = time.perf_counter()
        bad = write_file(path, rows)
        log(f"{rows} rows written in {time.perf_counter() - started:.1f}s ({path})")
        _prepare(url)
        log("database ready; importing")
        first = _import_once(url, path, batch_size)
        log(f"import: {first}")
        again = _import_once(url, path, batch_size)
        log(f"re-import: {again}")
        tokenise = _tokenise_only(path, min(rows, 10_000))
        log(f"tokenise only: {tokenise}")
        return {
            "benchmark": "hotline_import",
            "database": url.split(":", 1)[0],
            "rows": rows,
            "bad_rows_in_file": bad,
            "file_bytes": path.stat().st_size,
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "target_rows_per_second": TARGET_ROWS_PER_SECOND,
            "import": first,
            "reimport": again,
            "tokenise_only": tokenise,
            "meets_target": first["rows_per_second"] >= TARGET_ROWS_PER_SECOND,
        }
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.bench_hotline", description=__doc__)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to use")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = p.parse_args(argv)
    result = run(args.rows, database_url=args.postgres, batch_size=args.batch_size, keep=args.keep)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
