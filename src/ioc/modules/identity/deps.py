"""The request authenticator installed in the runtime: session cookie or API key, and the CSRF check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from ioc.core.security import Authenticator, Principal

from . import service
from .constants import CSRF_EXEMPT_PATHS, CSRF_FORM_FIELD, CSRF_HEADER, SESSION_COOKIE, UNSAFE_METHODS
from .credentials import tokens_match
from .exceptions import CsrfFailed

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def bearer_token(request: Request) -> str | None:
    """Return the credentials of an `Authorization: Bearer` header ("" if the header is empty), else None."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


async def _form_token(request: Request) -> str | None:
    # Read the body first: the middleware caches it, so the route can still parse the same form.
    await request.body()
    try:
        form = await request.form()
    except (HTTPException, MultiPartException):
        return None
    try:
        value = form.get(CSRF_FORM_FIELD)
    finally:
        await form.close()
    return value if isinstance(value, str) else None


async def check_csrf(request: Request, expected: str) -> None:
    """Raise CsrfFailed unless the request carries the session's token (header, or form field for forms)."""
    if tokens_match(request.headers.get(CSRF_HEADER), expected):
        return
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(FORM_CONTENT_TYPES) and tokens_match(await _form_token(request), expected):
        return
    raise CsrfFailed()


def build_authenticator(runtime: Runtime) -> Authenticator:
    """Return the authenticator the kernel middleware calls once per request."""

    async def authenticate(request: Request) -> Principal | None:
        secret = bearer_token(request)
        if secret is not None:
            # Bearer requests carry no ambient credentials, so they need no CSRF token.
            async with runtime.db.session() as session:
                principal = await service.resolve_api_key(session, runtime, secret)
                await session.commit()
            return principal
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        async with runtime.db.session() as session:
            resolved = await service.resolve_session(session, runtime, token)
            await session.commit()
        if resolved is None:
            return None
        request.state.csrf_token = resolved.csrf_token
        if request.method in UNSAFE_METHODS and request.url.path not in CSRF_EXEMPT_PATHS:
            await check_csrf(request, resolved.csrf_token)
        return resolved.principal

    return authenticate
