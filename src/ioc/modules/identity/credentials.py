"""Password hashing (argon2), random tokens and their digests, the signed login-form token."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ioc.core.settings import Environment

from .constants import API_KEY_PREFIX, LOGIN_FORM_MAX_AGE_SECONDS

# argon2id with the library's defaults (the RFC 9106 low-memory profile).
STANDARD_HASHER = PasswordHasher()
# Test suites create hundreds of accounts; in the test environment only, hashing is made cheap. A hash records
# its own parameters, so verification never depends on which hasher made it.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
LOGIN_FORM_SALT = "identity.login-form"


def hasher_for(env: Environment) -> PasswordHasher:
    """Return the password hasher of an environment."""
    return TEST_HASHER if env is Environment.TEST else STANDARD_HASHER


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return str(hasher.hash(secrets.token_urlsafe(16)))


async def hash_password(hasher: PasswordHasher, password: str) -> str:
    """Hash a password with argon2id (in a thread: hashing is deliberately slow)."""
    return str(await asyncio.to_thread(hasher.hash, password))


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    """Tell whether a password matches its hash."""
    return await asyncio.to_thread(_verify, hasher, password_hash, password)


async def spend_verify_time(hasher: PasswordHasher, password: str) -> None:
    """Verify against a throwaway hash so that unknown usernames answer as slowly as wrong passwords."""
    await asyncio.to_thread(_verify, hasher, _dummy_hash(hasher), password)


def needs_rehash(hasher: PasswordHasher, password_hash: str) -> bool:
    """Tell whether a hash was made with other parameters than the hasher's (e.g. weaker ones)."""
    try:
        return bool(hasher.check_needs_rehash(password_hash))
    except InvalidHashError:
        return False


def new_token() -> str:
    """Return a random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def tokens_match(given: str | None, expected: str) -> bool:
    """Compare tokens in constant time."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def new_api_key() -> tuple[str, str]:
    """Return (prefix shown to people, full secret key)."""
    prefix = f"{API_KEY_PREFIX}_{secrets.token_hex(4)}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def _login_form_serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=LOGIN_FORM_SALT)


def new_login_form_token(secret_key: str) -> str:
    """Return a signed token for the login form's double-submit cookie."""
    return str(_login_form_serializer(secret_key).dumps(secrets.token_hex(16)))


def login_form_token_valid(secret_key: str, token: str | None) -> bool:
    """Tell whether a login-form token carries our signature and is recent enough."""
    if not token:
        return False
    try:
        _login_form_serializer(secret_key).loads(token, max_age=LOGIN_FORM_MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return True
