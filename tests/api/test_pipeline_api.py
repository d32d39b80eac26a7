"""The pipeline over HTTP: staff only, a background pass, its state."""
from __future__ import annotations

import os
import threading
import time

import pipeline

from tests.conftest import FULL_CONSENT


def test_staff_see_the_stages_and_start_a_background_pass(archive, client, keys, make_audio):
    path = make_audio("a.wav", seconds=3, sidecar={"language": "fr", "consent": FULL_CONSENT},
                      folder=archive.settings.inbox_path)
    for file in path.parent.iterdir():
        os.utime(file, (time.time() - 60,) * 2)
    assert client.get("/api/pipeline").status_code == 401
    assert client.get("/api/pipeline", headers=keys["advocate"]).status_code == 403
    state = client.get("/api/pipeline", headers=keys["producer"]).json()
    assert [s["name"] for s in state["stages"]] == ["ingest", "clean", "transcribe", "anonymize", "review", "build_episode",
                                                   "publish"]
    assert state["stages"][0]["pending"] == [str(path)] and not state["running"]

    started = client.post("/api/pipeline/run", headers=keys["admin"])
    assert started.status_code == 202
    client.app.state.pipeline.join(120)
    state = client.get("/api/pipeline", headers=keys["admin"]).json()
    assert not state["running"]
    ingest = [r for r in state["last"] if r["stage"] == "ingest"]
    assert ingest == [{"stage": "ingest", "ref": str(path), "state": "done", "changed": True, "reason": None,
                       "testimony": "T-000001"}]
    assert state["stages"][0]["pending"] == []


def test_a_second_run_while_one_runs_is_refused(archive, client, keys):
    runner = client.app.state.pipeline = pipeline.Runner(archive)
    busy = threading.Event()
    runner._thread = threading.Thread(target=busy.wait)  # a pass in progress
    runner._thread.start()
    try:
        refused = client.post("/api/pipeline/run", headers=keys["producer"])
        assert refused.status_code == 409 and refused.json()["error"] == "pipeline_running"
        assert client.get("/api/pipeline", headers=keys["producer"]).json()["running"] is True
    finally:
        busy.set()
