"""Accounts, passwords (argon2), login throttling and sessions."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, insert, select, update

from ...adapters.db.tables import login_attempts, sessions, users
from ...core.errors import PolicyError
from ...registers import events
from ...registers.roles import ROLES, Actor
from ..kernel.uow import UnitOfWork, now

_HASHER = PasswordHasher()


class AuthError(PolicyError):
    """Login refused (wrong credentials, or throttled)."""

    code = "login_failed"


class Throttled(AuthError):
    """Too many failed logins for this account and address."""

    code = "login_throttled"


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_of(row) -> Actor:
    """The domain actor of a users row."""
    return Actor(row.id, row.username, row.display_name, row.role, row.town, row.credit_code, row.department)


@dataclass(frozen=True)
class Session:
    """A signed-in session."""

    id: str
    actor: Actor
    csrf_token: str
    lang: str


def create_user(
    uow: UnitOfWork,
    by: Actor | None,
    username: str,
    display_name: str,
    password: str,
    role: str,
    town: str | None = None,
    credit_code: str | None = None,
    department: str | None = None,
    address: str | None = None,
) -> int:
    """Create an account (audited, with the client ``address`` when given).

    Raises PolicyError for an unknown role or a missing scope.
    """
    if role not in ROLES:
        raise PolicyError(
            f"角色 {role!r} 无效，应为 {'、'.join(ROLES)} 之一。",
            f"Unknown role {role!r}; expected one of {', '.join(ROLES)}.",
        )
    if role == "town" and not town:
        raise PolicyError("镇街账号须指定所属镇(街道)。", "A town account needs its town.")
    if role == "enterprise" and not credit_code:
        raise PolicyError("企业账号须指定统一社会信用代码。", "An enterprise account needs its credit code.")
    with uow.write(by, address) as w:
        exists = w.conn.execute(select(users.c.id).where(users.c.username == username)).first()
        if exists:
            raise PolicyError(f"用户名 {username} 已存在。", f"The username {username} is taken.")
        uid = w.conn.execute(
            insert(users).values(
                username=username,
                display_name=display_name,
                password_hash=hash_password(password),
                role=role,
                town=town,
                credit_code=credit_code,
                department=department,
                active=True,
                created_at=now(),
            )
        ).inserted_primary_key[0]
        w.record(
            events.USER_CREATE,
            uid,
            None,
            {"username": username, "role": role, "town": town, "credit_code": credit_code, "department": department},
        )
    return int(uid)


def login(
    uow: UnitOfWork,
    username: str,
    password: str,
    address: str,
    max_failures: int,
    window_minutes: int,
    session_hours: int,
    lang: str = "zh",
) -> Session:
    """Check the credentials (throttled per account and address) and open a session.

    Raises:
        Throttled: after ``max_failures`` failures within the window.
        AuthError: for a wrong username or password (the same message for both).
    """
    since = now() - dt.timedelta(minutes=window_minutes)
    with uow.write(None, address) as w:
        failures = w.conn.execute(
            select(func.count())
            .select_from(login_attempts)
            .where(
                and_(
                    login_attempts.c.username == username,
                    login_attempts.c.address == address,
                    login_attempts.c.at >= since,
                    login_attempts.c.success.is_(False),
                )
            )
        ).scalar_one()
        if failures >= max_failures:
            raise Throttled(
                f"登录失败次数过多，请 {window_minutes} 分钟后再试。",
                f"Too many failed logins; try again in {window_minutes} minutes.",
            )
        row = w.conn.execute(select(users).where(users.c.username == username, users.c.active.is_(True))).first()
        ok = row is not None and verify_password(row.password_hash, password)
        w.conn.execute(insert(login_attempts).values(username=username, address=address, at=now(), success=ok))
        if not ok:
            w.record(events.LOGIN_FAILED, username, None, {"address": address})
    if not ok:
        raise AuthError("用户名或密码错误。", "Wrong username or password.")
    actor = actor_of(row)
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with uow.write(actor, address) as w:
        w.conn.execute(
            insert(sessions).values(
                id=sid,
                user_id=actor.id,
                csrf_token=csrf,
                lang=lang,
                created_at=now(),
                expires_at=now() + dt.timedelta(hours=session_hours),
            )
        )
        w.record(events.LOGIN, actor.id, None, {"address": address})
    return Session(sid, actor, csrf, lang)


def session(uow: UnitOfWork, sid: str | None) -> Session | None:
    """The live session of a cookie value, or None."""
    if not sid:
        return None
    with uow.read() as conn:
        row = conn.execute(
            select(sessions, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.id == sid, sessions.c.expires_at > now(), users.c.active.is_(True))
        ).first()
    if row is None:
        return None
    actor = Actor(row.user_id, row.username, row.display_name, row.role, row.town, row.credit_code, row.department)
    return Session(row.id, actor, row.csrf_token, row.lang)


def logout(uow: UnitOfWork, s: Session) -> None:
    """End a session (audited)."""
    with uow.write(s.actor) as w:
        w.conn.execute(delete(sessions).where(sessions.c.id == s.id))
        w.record(events.LOGOUT, s.actor.id)


def set_language(uow: UnitOfWork, s: Session, lang: str) -> None:
    """Remember the session's language."""
    with uow.write(s.actor) as w:
        w.conn.execute(update(sessions).where(sessions.c.id == s.id).values(lang=lang))


def new_session_token() -> str:
    """A fresh random token (for anonymous CSRF protection of the login form)."""
    return secrets.token_urlsafe(32)
