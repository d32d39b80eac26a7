"""`kuma ingest -j 2` killed with SIGKILL: its workers die with it, and the archive stays whole
(the next run finishes the batch and clears what the kill left: `kuma verify` is clean)."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.audio import encode
from tests.archive.test_procs import alive, children, kill_and_watch, wait_until
from tests.conftest import speechlike

KUMA = Path(sys.executable).parent / "kuma"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not KUMA.exists(), reason="the kuma entry point is not installed"),
              pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")]


def kuma(*args, env: dict, **kwargs):
    return subprocess.Popen([str(KUMA), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def working_copies_being_written(home: Path) -> list[Path]:
    tmp = home / "media" / "tmp"
    return sorted(tmp.glob("*.flac")) if tmp.exists() else []


def test_killed_parallel_ingest_leaves_no_worker_and_the_next_run_finishes(tmp_path):
    folder = tmp_path / "lot"
    folder.mkdir()
    for n in range(6):
        encode(speechlike(40, 44100, seed=n), folder / f"{n}.flac", rate=44100)
    home = tmp_path / "home"
    env = {**os.environ, "KUMA_HOME": str(home), "KUMA_SECRET_KEY": "test-secret", "COLUMNS": "200"}
    batch = kuma("ingest", "-j", "2", folder, env=env)
    try:
        # both workers are busy: each writes its file's working copy into the store's tmp/
        assert wait_until(lambda: len(working_copies_being_written(home)) >= 2, 90, step=0.02), batch.poll()
        workers = children(batch.pid)
        assert len(workers) >= 2
        survivors = kill_and_watch(batch, workers)
        assert survivors == [], f"workers outlived their parent: {survivors}"
    finally:
        if batch.poll() is None:
            batch.kill()
            batch.wait()

    rerun = kuma("ingest", "-j", "2", folder, env=env)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out + err
    assert "Ingérés : " in out and "refusés : 0" in out
    assert not alive(children(rerun.pid))

    assert not any((home / "media" / "tmp").iterdir())  # the killed writers' temporaries went with the rerun
    verified = subprocess.run([str(KUMA), "verify", "--json"], env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(verified.stdout)
    assert verified.returncode == 0 and report["ok"] and report["checked"] == 12, verified.stdout + verified.stderr
