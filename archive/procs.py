"""Worker processes that die with the process that started them.

A ``ProcessPoolExecutor`` worker outlives a parent killed with SIGKILL (or by the OOM killer):
it waits forever for work on a queue it holds both ends of. ``worker_pool`` makes workers
that end with their parent:

- on Linux, the kernel sends the worker SIGKILL when its parent dies (``PR_SET_PDEATHSIG``).
  That signal is tied to the parent *thread* that started the worker, not to the process: a
  worker started by a thread that ends before the pool (the pool used from a short-lived
  thread) would be killed while still in use. So it is armed only in workers started by the
  main thread, which lives as long as the process;
- everywhere, a daemon thread in the worker checks every ``WATCH_INTERVAL_S`` that its parent is
  still the same process (``os.getppid()`` changes when the parent dies) and exits otherwise.
  It covers the other platforms and the workers started by other threads.

Workers start with "spawn": clean, with no inherited database connections or threads, and
without re-running the main script (the ``kuma`` command line): work sent to a pool must be a
function of an importable module.
"""
from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import SpawnContext, SpawnProcess

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL_S = 0.5


class _WorkerProcess(SpawnProcess):
    """A spawned process that knows whether the main thread started it (pickled into the child)."""

    def start(self) -> None:
        self.started_by_main_thread = threading.current_thread() is threading.main_thread()
        with _main_script_hidden():
            super().start()


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start workers without re-running the main script: spawn imports it in every child (for
    ``kuma``, the whole command line: 3 s and 200 MB a worker, during which a killed parent's
    worker lives on). The work sent to the pool lives in importable modules, never in a script."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) if getattr(main, "__spec__", None) is None else None
    if path is None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


def worker_pool(jobs: int, initializer: Callable | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor of ``jobs`` spawned workers that die with this process."""
    return ProcessPoolExecutor(max_workers=jobs, mp_context=_WorkerContext(), initializer=_start_worker,
                               initargs=(initializer, initargs))


def _start_worker(initializer: Callable | None, initargs: tuple) -> None:
    die_with_parent()
    if initializer is not None:
        initializer(*initargs)


def die_with_parent() -> None:
    """In a worker: end this process when its parent ends (see the module's notes)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if getattr(multiprocessing.current_process(), "started_by_main_thread", False):
        _arm_death_signal()
    if os.getppid() != parent.pid:  # the parent died before the watch began
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent.pid,), name="die-with-parent", daemon=True).start()


def _arm_death_signal() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


__all__ = ["WATCH_INTERVAL_S", "die_with_parent", "worker_pool"]
