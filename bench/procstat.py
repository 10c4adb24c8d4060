"""CPU time of a process and its descendants, from /proc (Linux); None elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    return raw[raw.rfind(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by `pid` and its living descendants."""
    if not _PROC.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    seen: set[int] = set()
    todo = [pid]
    while todo and len(seen) < 1000:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        fields = _stat(p)
        if fields is None:
            if p == pid:
                return None
            continue
        # after the name: state=0, ..., utime=11, stime=12 (fields 14 and 15 of proc(5))
        total += int(fields[11]) + int(fields[12])
        todo.extend(_children(p))
    return total / ticks


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores together have spent not idle since boot (from /proc/stat)."""
    try:
        first = (_PROC / "stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal guest guest_nice
    values = [int(v) for v in first[1:9]]
    busy = sum(values) - values[3] - values[4]
    return busy / os.sysconf("SC_CLK_TCK")
