"""Sign-in, sign-out and the two request guards of the web studio: who is signed in, and CSRF.

- The session cookie ``kuma_session`` is HttpOnly, SameSite=Lax, Secure when the studio is served
  over https (the request's scheme, or ``KUMA_BASE_URL``), and lasts ``KUMA_WEB_SESSION_HOURS``.
- Every form posts a ``csrf`` field: the session's CSRF token once signed in; before that (the
  sign-in form), the value of a ``kuma_csrf`` cookie set with the form (double submit). A post
  without it, or with another value, is refused (403) before anything is done.
- A wrong password five times locks the account for 30 s, doubled at each further failure
  (``api/users.py``); the sign-in page then answers 429 with ``Retry-After``.
"""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from api import users
from api.deps import get_session
from api.web import PREFIX, render
from archive.errors import Forbidden, TooManyAttempts, Unauthorized
from archive.models import Role

SESSION_COOKIE = "kuma_session"
LOGIN_CSRF_COOKIE = "kuma_csrf"
CSRF_REFUSED = "jeton de formulaire (CSRF) manquant ou invalide : rechargez la page et recommencez"

router = APIRouter()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.base_url.startswith("https://")


def current_user(request: Request, session: Session = Depends(get_session)) -> users.SignedIn | None:
    return users.find_session(session, request.cookies.get(SESSION_COOKIE))


def signed_in(user: users.SignedIn | None = Depends(current_user)) -> users.SignedIn:
    """Dependency: the signed-in person (a GET without a session is sent to the sign-in page)."""
    if user is None:
        raise Unauthorized("connexion requise")
    return user


def staff(user: users.SignedIn = Depends(signed_in)) -> users.SignedIn:
    if user.role not in (Role.ADMIN, Role.PRODUCER):
        raise Forbidden("page réservée à l'équipe (rôles admin et producer)")
    return user


def check_csrf(user: users.SignedIn, given: str | None) -> None:
    if not users.same_token(given, user.csrf):
        raise Forbidden(CSRF_REFUSED)


def _safe_next(target: str | None) -> str:
    """Only a page of the studio: never another site (``//evil``) after signing in."""
    if target and target.startswith(PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


@router.get("/connexion")
def login_form(request: Request, suite: str | None = None,
               user: users.SignedIn | None = Depends(current_user)) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(suite), status_code=303)
    return _login_page(request, suite)


def _login_page(request: Request, suite: str | None, *, error: str | None = None, status_code: int = 200,
                name: str = "", headers: dict | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", {"csrf": token, "suite": _safe_next(suite), "error": error,
                                              "name": name, "user": None},
                      status_code=status_code, headers=headers)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                        path=PREFIX)
    return response


@router.post("/connexion")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""),
          suite: str = Form(""), session: Session = Depends(get_session)) -> Response:
    if not users.same_token(csrf, request.cookies.get(LOGIN_CSRF_COOKIE) or ""):
        raise Forbidden(CSRF_REFUSED)
    try:
        user = users.authenticate(session, name, password)
    except TooManyAttempts as exc:
        session.commit()
        return _login_page(request, suite, error=str(exc), status_code=429, name=name,
                           headers={"Retry-After": str(exc.retry_after)})
    except Unauthorized as exc:
        session.commit()  # the failure counts, though the request fails
        return _login_page(request, suite, error=str(exc), status_code=401, name=name)
    token = users.open_session(session, user, request.app.state.settings.web_session_hours)
    response = RedirectResponse(_safe_next(suite), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path=PREFIX,
                        max_age=int(request.app.state.settings.web_session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    return response


@router.post("/deconnexion")
def logout(request: Request, csrf: str = Form(""), user: users.SignedIn = Depends(signed_in),
           session: Session = Depends(get_session)) -> Response:
    check_csrf(user, csrf)
    users.close_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{PREFIX}/connexion", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
