"""The pipeline over HTTP (staff): what each stage has to do, and a background pass over them all.

``POST /api/pipeline/run`` starts one pass of ``pipeline.process`` in a background thread (never
in the request) and answers 202 at once; ``GET /api/pipeline`` says what each stage has pending,
whether a pass is running and what the last one did. One pass at a time per server.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

import pipeline
from api import schemas
from api.deps import Caller, get_archive, pipeline_runner, require
from archive.db import Archive
from archive.errors import printable
from archive.models import Role

router = APIRouter(prefix="/api/pipeline", tags=["pipeline"],
                   responses={status: {"model": schemas.ErrorOut} for status in (401, 403)})
staff = require(Role.ADMIN, Role.PRODUCER)


def _state(runner: pipeline.Runner, archive: Archive) -> schemas.PipelineOut:
    return schemas.PipelineOut(
        stages=[schemas.StageOut(name=stage.name, pending=[printable(ref) for ref in stage.pending(archive)])
                for stage in pipeline.STAGES],
        running=runner.running, stage=runner.stage, ref=runner.ref, error=runner.error,
        last=[schemas.StageResultOut(stage=r.stage, ref=printable(r.ref), state=r.state, changed=r.changed,
                                     reason=r.reason and printable(r.reason), testimony=r.testimony)
              for r in runner.last])


@router.get("", response_model=schemas.PipelineOut)
def pipeline_state(request: Request, caller: Caller = Depends(staff),
                   archive: Archive = Depends(get_archive)) -> schemas.PipelineOut:
    """Each stage, in order, with what it has pending; the background pass's state."""
    return _state(pipeline_runner(request, archive), archive)


@router.post("/run", status_code=202, response_model=schemas.PipelineOut,
             responses={409: {"model": schemas.ErrorOut, "description": "A pass is already running."}})
def pipeline_run(request: Request, caller: Caller = Depends(staff), archive: Archive = Depends(get_archive)):
    """Start one pass over every stage in the background (202); 409 while one runs."""
    runner = pipeline_runner(request, archive)
    runner.actor = caller.actor
    if not runner.start():
        return JSONResponse({"error": "pipeline_running", "detail": "un passage est déjà en cours"}, status_code=409)
    return _state(runner, archive)
