"""Worker pools die with their parent, even one killed with SIGKILL."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from archive.procs import worker_pool
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[0]


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[0] == pid and stat[1] != "Z":
            found.append(int(entry.name))
    return found


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if (stat := _stat(pid)) is not None and stat[1] != "Z"]


def wait_until(condition, timeout: float, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(step)
    return condition()


def kill_and_watch(process: subprocess.Popen, workers: list[int], timeout: float = 5.0) -> list[int]:
    """SIGKILL ``process``; the workers still alive after ``timeout`` seconds."""
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_until(lambda: not alive(workers), timeout)
    survivors = alive(workers)
    for pid in survivors:  # do not leave them to the rest of the suite
        os.kill(pid, signal.SIGKILL)
    return survivors


NAPPER = """
    import os, time

    def nap():
        print("worker", os.getpid(), flush=True)
        time.sleep(60)
"""

SCRIPT = """
    import os, sys, threading, time
    from archive.procs import worker_pool
    from napper import nap  # work sent to a pool lives in a module: workers never re-run this script

    print("script run by", os.getpid(), flush=True)

    def start(box):
        box["pool"] = worker_pool(2)
        box["futures"] = [box["pool"].submit(nap) for _ in range(2)]

    if __name__ == "__main__":
        box = {}
        if sys.argv[1] == "thread":  # started by a thread that ends at once: no death signal, the watch only
            thread = threading.Thread(target=start, args=(box,))
            thread.start()
            thread.join()
        else:
            start(box)
        time.sleep(120)
"""


@pytest.mark.parametrize("started_by", ["main", "thread"])
def test_workers_die_when_their_parent_is_killed(tmp_path, started_by):
    script = tmp_path / "parent.py"
    script.write_text(textwrap.dedent(SCRIPT))
    (tmp_path / "napper.py").write_text(textwrap.dedent(NAPPER))
    process = subprocess.Popen([sys.executable, str(script), started_by], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}"})
    try:
        assert process.stdout.readline().split() == ["script", "run", "by", str(process.pid)]
        lines = [process.stdout.readline().split() for _ in range(2)]  # both are running work
        assert [line[0] for line in lines] == ["worker", "worker"]  # neither re-ran the script first
        workers = [int(line[1]) for line in lines]
        assert sorted(workers) == sorted(set(workers) & set(children(process.pid)))
        assert kill_and_watch(process, children(process.pid)) == []  # the workers and the resource tracker
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_pool_started_by_a_thread_that_ended_keeps_working():
    """The kernel's death signal follows the parent *thread*: armed in these workers, they would
    die with the short-lived thread that started them."""
    box = {}

    def start():
        box["pool"] = worker_pool(1)
        box["pid"] = box["pool"].submit(os.getpid).result()

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    time.sleep(0.3)
    with box["pool"] as pool:
        assert pool.submit(os.getpid).result() == box["pid"]


def _mark(value: str) -> None:
    os.environ["KUMA_WORKER_TEST"] = value


def _add(a, b):
    return a + b


def _env(name: str) -> str | None:
    return os.environ.get(name)


def test_worker_pool_runs_work_and_an_initializer():
    with worker_pool(2, initializer=_mark, initargs=("1",)) as pool:
        assert list(pool.map(_add, [1, 2], [3, 4])) == [4, 6]
        assert pool.submit(_env, "KUMA_WORKER_TEST").result() == "1"
