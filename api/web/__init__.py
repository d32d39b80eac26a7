"""The web studio (issue 18): server-rendered pages for the people who use Kuma, under ``/studio``.

Plain HTML forms and Jinja2 templates, one small stylesheet, no script needed, nothing from a
CDN: pages light enough for a phone on a poor link. The same roles and the same policy as the
JSON API: ``archive.consent.decide`` decides every page and every audio byte. Sign-in, sessions and
CSRF are in ``api/web/auth.py``; accounts and passwords in ``api/users.py``.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from archive.errors import KumaError, TooManyAttempts, Unauthorized

HERE = Path(__file__).parent
PREFIX = "/studio"
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"),
                                            autoescape=select_autoescape(default=True, default_for_string=True)))


def highlight(snippet: str) -> Markup:
    """A search snippet escaped whole, then only its ``<mark>`` highlights made HTML again."""
    from archive.search import MARK_END, MARK_START

    escaped = str(escape(snippet))
    return Markup(escaped.replace(str(escape(MARK_START)), MARK_START).replace(str(escape(MARK_END)), MARK_END))


templates.env.filters["highlight"] = highlight


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"prefix": PREFIX, **(context or {})},
                                      status_code=status_code, headers=headers)


def is_page(request: Request) -> bool:
    return request.url.path == PREFIX or request.url.path.startswith(PREFIX + "/")


def error_page(request: Request, exc: KumaError) -> Response:
    """A KumaError on a page: sign-in first for a GET without a session, else an error page."""
    if type(exc) is Unauthorized and request.method == "GET":
        return RedirectResponse(f"{PREFIX}/connexion?suite={request.url.path}", status_code=303)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    return render(request, "error.html", {"message": str(exc), "status": exc.http_status, "user": None},
                  status_code=exc.http_status, headers=headers)


def mount(app: FastAPI) -> None:
    from api.web import auth, home, intake, programme, review, search, stations, testimony

    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    router.include_router(auth.router)
    router.include_router(home.router)
    router.include_router(review.router)
    router.include_router(search.router)
    router.include_router(testimony.router)
    router.include_router(intake.router)
    router.include_router(stations.router)
    router.include_router(programme.router)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="studio-static")
