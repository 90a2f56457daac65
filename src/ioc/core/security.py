"""Who is calling: the principal, roles, and the FastAPI dependencies that check scopes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum

from fastapi import Request

from .errors import Forbidden, Unauthorized


class Role(StrEnum):
    """The roles of the product; scopes are granted to roles by module manifests."""

    CITIZEN = "citizen"
    HOTLINE_OPERATOR = "hotline_operator"
    AGENCY_STAFF = "agency_staff"
    AGENCY_HEAD = "agency_head"
    LEADER = "leader"
    ADMIN = "admin"


class PrincipalKind(StrEnum):
    """How the caller authenticated."""

    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller with the scopes its role and grants allow."""

    kind: PrincipalKind
    id: int | None
    name: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    display_name: str = ""
    agency_id: int | None = None
    unit_codes: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None

    def has(self, scope: str) -> bool:
        """Tell whether the principal holds a scope."""
        return scope in self.scopes

    @property
    def is_admin(self) -> bool:
        """Tell whether the principal is an administrator."""
        return self.role is Role.ADMIN


SYSTEM = Principal(kind=PrincipalKind.SYSTEM, id=None, name="system", role=Role.ADMIN)

Authenticator = Callable[[Request], Awaitable[Principal | None]]

# The actor of the current request or job; the audit log reads it at flush time.
current_actor: ContextVar[Principal | None] = ContextVar("current_actor", default=None)


async def authenticate_request(request: Request) -> Principal | None:
    """Authenticate the request once, remembering the principal on the request and in the context."""
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    runtime = getattr(request.app.state, "runtime", None)
    authenticator: Authenticator | None = getattr(runtime, "authenticator", None)
    principal = await authenticator(request) if authenticator else None
    request.state.principal = principal
    current_actor.set(principal)
    return principal


async def optional_principal(request: Request) -> Principal | None:
    """Return the caller if authenticated, else None."""
    return await authenticate_request(request)


async def require_principal(request: Request) -> Principal:
    """Return the caller or answer 401."""
    principal = await authenticate_request(request)
    if principal is None:
        raise Unauthorized("Cần đăng nhập.", "Login required.")
    return principal


def require_scope(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """Build a dependency that answers 401/403 unless the caller holds `scope`."""

    async def dependency(request: Request) -> Principal:
        principal = await require_principal(request)
        if not principal.has(scope):
            raise Forbidden(
                f"Bạn không có quyền thực hiện thao tác này ({scope}).",
                f"You are not allowed to do this ({scope}).",
                scope=scope,
            )
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency
