"""The benchmarks' CPU readings per server process and thread (`bench.procstat`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bench.procstat import _PROC, tree_times, tree_usage

#: a parent that starts a child; the child runs one busy thread beside an idle one
_PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
child.wait()
"""
_CHILD = """
import threading, time
idle = threading.Thread(target=time.sleep, args=(30,), daemon=True)
idle.start()
end = time.monotonic() + 30
while time.monotonic() < end:
    pass
"""


@pytest.mark.skipif(not _PROC.is_dir(), reason="reads /proc (Linux)")
def test_a_busy_thread_of_a_child_process_is_seen_as_the_busiest() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, _CHILD], start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the child runs
            found = tree_times(parent.pid)
            if found is not None and len(found) == 2:
                break
            time.sleep(0.05)
        before = tree_times(parent.pid)
        assert before is not None and len(before) == 2
        started = time.perf_counter()
        time.sleep(1.0)
        after = tree_times(parent.pid)
        assert after is not None
        usage = {u["pid"]: u for u in tree_usage(before, after, time.perf_counter() - started)}
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the child too: it is in the parent's group
        parent.wait()
    child = next(u for pid, u in usage.items() if pid != parent.pid)
    assert "threading" in child["command"]
    # one thread spins (other tests share the cores: at least a third of one, not all of it)
    assert child["busiest_thread_percent"] >= 30
    assert child["cpu_percent"] >= child["busiest_thread_percent"]
    assert usage[parent.pid]["busiest_thread_percent"] < 10  # it waits for the child
