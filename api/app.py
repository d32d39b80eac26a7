"""The FastAPI application: ``create_app(settings)`` assembles the routers (``kuma serve`` runs it).

Errors: every :class:`archive.errors.KumaError` becomes ``{"error": code, "detail": message}``
with the error's ``http_status``; request validation errors stay FastAPI's 422 body. On the web
studio's pages (``/studio``, ``api/web``) it becomes an HTML page, or the sign-in page.
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

import api.routes.public
from api import web
from api.routes import archive_api, pipeline_api, stations
from archive.db import Archive, open_archive
from archive.errors import KumaError
from archive.settings import Settings, get_settings

DESCRIPTION = """Kuma archive API: consent-filtered search of testimonies with time-coded snippets,
anonymized clips, published episodes. Send your key as `Authorization: Bearer <key>` or
`X-API-Key: <key>`; without a key only published public episodes are served."""


def create_app(settings: Settings | None = None, *, archive: Archive | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        runner = getattr(app.state, "pipeline", None)
        if runner is not None:
            runner.stop()
            runner.join()  # the item in progress finishes before the archive closes
        if owned:
            app.state.archive.dispose()

    owned = archive is None
    app = FastAPI(title="Kuma", version="1", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.archive = archive or open_archive(settings)
    app.add_exception_handler(KumaError, _kuma_error)
    app.include_router(archive_api.router)
    app.include_router(pipeline_api.router)
    app.include_router(stations.router)
    app.include_router(api.routes.public.router)
    web.mount(app)
    return app


async def _kuma_error(request: Request, exc: KumaError) -> Response:
    if web.is_page(request):
        return web.error_page(request, exc)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return JSONResponse({"error": exc.code, "detail": str(exc)}, status_code=exc.http_status, headers=headers)
