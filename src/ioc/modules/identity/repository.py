"""Every query of the identity module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, case, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.db import UTCDateTime
from ioc.core.security import Role

from .models import ApiKey, LoginThrottle, User, WebSession
from .schemas import UserFilters


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Return a user by id."""
    return await session.get(User, user_id)


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    """Return a user by (lower-case) username."""
    result = await session.scalars(select(User).where(User.username == username))
    return result.first()


async def get_users(session: AsyncSession, user_ids: Sequence[int]) -> list[User]:
    """Return the users with these ids."""
    if not user_ids:
        return []
    result = await session.scalars(select(User).where(User.id.in_(list(set(user_ids)))))
    return list(result)


def _filtered(query: Select[User], filters: UserFilters) -> Select[User]:
    if filters.q:
        pattern = f"%{filters.q.strip().lower()}%"
        query = query.where(or_(User.username.like(pattern), func.lower(User.display_name).like(pattern)))
    if filters.role is not None:
        query = query.where(User.role == filters.role.value)
    if filters.agency_id is not None:
        query = query.where(User.agency_id == filters.agency_id)
    if filters.is_active is not None:
        query = query.where(User.is_active == filters.is_active)
    return query


async def list_users(session: AsyncSession, filters: UserFilters, limit: int, offset: int) -> tuple[list[User], int]:
    """Return one page of users ordered by username, and the total matching the filters."""
    query = _filtered(select(User), filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(User.username).limit(limit).offset(offset))
    return list(rows), total


async def search_staff(
    session: AsyncSession, q: str, roles: Sequence[str], agency_id: int | None, limit: int
) -> list[User]:
    """Return active users of some roles whose name or username contains `q`, by name."""
    query = select(User).where(User.is_active.is_(True), User.role.in_(list(roles)))
    if q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(or_(User.username.like(pattern), func.lower(User.display_name).like(pattern)))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    rows = await session.scalars(query.order_by(User.display_name, User.id).limit(limit))
    return list(rows)


async def count_active_admins(session: AsyncSession) -> int:
    """Count the active administrators."""
    query = select(func.count()).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    return await session.scalar(query) or 0


def add(session: AsyncSession, obj: User | WebSession | ApiKey) -> None:
    """Stage a new row."""
    session.add(obj)


async def get_session_with_user(session: AsyncSession, session_id: str) -> tuple[WebSession, User] | None:
    """Return a web session and its user by the session's stored id."""
    result = await session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == session_id)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def touch_session(session: AsyncSession, session_id: str, now: datetime, expires_at: datetime) -> None:
    """Slide a session's expiry (a plain UPDATE: no ORM flush, so no audit noise)."""
    await session.execute(
        update(WebSession).where(WebSession.id == session_id).values(last_seen_at=now, expires_at=expires_at)
    )


async def delete_session(session: AsyncSession, session_id: str) -> None:
    """Delete one web session."""
    await session.execute(delete(WebSession).where(WebSession.id == session_id))


async def delete_user_sessions(session: AsyncSession, user_id: int, keep: str | None = None) -> None:
    """Delete every web session of a user, except `keep`."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.id != keep)
    await session.execute(query)


async def purge_expired_sessions(session: AsyncSession, now: datetime) -> int:
    """Delete the sessions that have expired; return how many."""
    result = await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


async def get_api_key_with_user(session: AsyncSession, secret_hash: str) -> tuple[ApiKey, User] | None:
    """Return an API key and its user by the key's hash."""
    result = await session.execute(
        select(ApiKey, User).join(User, User.id == ApiKey.user_id).where(ApiKey.secret_hash == secret_hash)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def touch_api_key(session: AsyncSession, key_id: int, now: datetime) -> None:
    """Record when a key was last used (a plain UPDATE: no audit entry per request)."""
    await session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


async def get_api_key(session: AsyncSession, key_id: int) -> ApiKey | None:
    """Return an API key by id."""
    return await session.get(ApiKey, key_id)


async def list_api_keys(session: AsyncSession, user_id: int | None) -> list[ApiKey]:
    """Return the API keys of a user (or of everyone), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(await session.scalars(query))


async def get_throttle(session: AsyncSession, ip: str) -> LoginThrottle | None:
    """Return the failed-login counter of a network address."""
    result = await session.scalars(select(LoginThrottle).where(LoginThrottle.ip == ip))
    return result.first()


async def count_ip_failure(session: AsyncSession, ip: str, now: datetime, window_start: datetime) -> None:
    """Add one failed login to an address's counter, starting a new window if the old one is over."""
    # An upsert, so that two failures arriving together cannot both try to insert the row.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    expired = LoginThrottle.window_started_at < literal(window_start, UTCDateTime)
    statement = insert(LoginThrottle).values(ip=ip, failures=1, window_started_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.ip],
        set_={
            "failures": case((expired, 1), else_=LoginThrottle.failures + 1),
            "window_started_at": case((expired, literal(now, UTCDateTime)), else_=LoginThrottle.window_started_at),
        },
    )
    await session.execute(statement)


async def purge_throttle(session: AsyncSession, window_start: datetime) -> None:
    """Forget address counters whose window is over."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.window_started_at < window_start))
