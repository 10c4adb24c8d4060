"""CPU time of a process and its descendants, from /proc (Linux); None elsewhere."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    return _stat_of(_PROC / str(pid))


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


def _tree(pid: int) -> list[int]:
    """`pid` and its living descendants (at most 1,000)."""
    seen: list[int] = []
    todo = [pid]
    while todo and len(seen) < 1000:
        p = todo.pop()
        if p not in seen:
            seen.append(p)
            todo.extend(_children(p))
    return seen


def _ticks(fields: list[str]) -> int:
    # after the name: state=0, ..., utime=11, stime=12 (fields 14 and 15 of proc(5))
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used so far by `pid` and its living descendants."""
    if not _PROC.is_dir() or _stat(pid) is None:
        return None
    total = sum(_ticks(fields) for p in _tree(pid) if (fields := _stat(p)) is not None)
    return total / os.sysconf("SC_CLK_TCK")


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


@dataclass(frozen=True)
class ProcessTimes:
    """One process of a tree: its command line and each thread's CPU seconds so far."""

    command: str
    threads: dict[int, float]


def tree_times(pid: int) -> dict[int, ProcessTimes] | None:
    """Per process of `pid` and its living descendants: what `ProcessTimes` holds (a server
    whose busiest thread runs at 100 % of a core is limited by that thread, whatever the
    cores left idle)."""
    if not _PROC.is_dir() or _stat(pid) is None:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, ProcessTimes] = {}
    for p in _tree(pid):
        threads: dict[int, float] = {}
        try:
            tasks = list((_PROC / str(p) / "task").iterdir())
            command = (_PROC / str(p) / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        for task in tasks:
            fields = _stat_of(task)
            if fields is not None:
                threads[int(task.name)] = _ticks(fields) / ticks
        out[p] = ProcessTimes(command.decode(errors="replace").strip()[:120], threads)
    return out


def tree_usage(
    before: dict[int, ProcessTimes], after: dict[int, ProcessTimes], seconds: float
) -> list[dict[str, Any]]:
    """Per process alive at both readings: percent of one core used in between, in all and by
    its busiest thread."""
    usage: list[dict[str, Any]] = []
    for pid, now in after.items():
        then = before.get(pid)
        if then is None or seconds <= 0:
            continue
        spent = [t - then.threads.get(tid, 0.0) for tid, t in now.threads.items()]
        usage.append(
            {
                "pid": pid,
                "command": now.command,
                "cpu_percent": round(100.0 * sum(spent) / seconds, 1),
                "busiest_thread_percent": round(100.0 * max(spent, default=0.0) / seconds, 1),
            }
        )
    return usage


def _stat_of(entry: Path) -> list[str] | None:
    """The fields of a process's or thread's `stat` after its name."""
    try:
        raw = (entry / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing parenthesis
    return raw[raw.rfind(")") + 2 :].split()
