"""Accounts, passwords (argon2), login throttling and sessions.

Sign-in is refused, before the password is checked, while the account has
``max_failures`` failed sign-ins within the window (from any address) or the
client address has ``max_failures_per_address`` (for any user names); the
refusal says how many minutes remain. An unknown or inactive user name costs
the same argon2 verification as a real one (against a dummy hash), so the
answer's timing does not tell which names exist. A user name or password over
its length limit is refused (422) before anything is read or stored.

Failures count for an account only after its last success: a sign-in, or an
administrator's unlock (:func:`unlock`, recorded as a successful attempt from the
administrator's address and audited as ``user.unlock``). The per-address count
is not reset by either.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, and_, delete, func, insert, select, update

from ...adapters.db.tables import login_attempts, sessions, users
from ...core.errors import InvalidInput, PolicyError, Problem
from ...registers import events
from ...registers.roles import ROLES, Actor
from ..kernel.uow import UnitOfWork, bounded, now

_HASHER = PasswordHasher()

USERNAME_MAX = 64
"""Longest user name (``users.username``, ``login_attempts.username``)."""
PASSWORD_MAX = 1024
"""Longest password a sign-in accepts (new passwords: at most 256, ``users.MAX_PASSWORD``)."""
ADDRESS_MAX = 64
"""Longest client address kept (``login_attempts.address``)."""


class AuthError(PolicyError):
    """Login refused (wrong credentials, or throttled)."""

    code = "login_failed"


class Throttled(AuthError):
    """Too many failed logins for this account, or from this address, within the window.

    Attributes:
        minutes: whole minutes until a sign-in is accepted again (at least 1).
    """

    code = "login_throttled"

    def __init__(self, minutes: int, account: bool) -> None:
        whom_zh, whom_en = ("该账号", "for this account") if account else ("来自该地址的", "from this address")
        super().__init__(
            f"{whom_zh}登录失败次数过多，请 {minutes} 分钟后再试。",
            f"Too many failed sign-ins {whom_en}; try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        )
        self.minutes = minutes


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """An argon2 hash of a random secret, verified for unknown or inactive user names (equal work, equal time)."""
    return _HASHER.hash(secrets.token_urlsafe(32))


def credential_problems(username: str, password: str) -> list[Problem]:
    """What is too long in a sign-in (the password is never echoed; the name only as a bounded, marked prefix).

    >>> [p.code for p in credential_problems("a" * 65, "x")], credential_problems("admin", "x")
    (['too_long'], [])
    """
    out = []
    if len(username) > USERNAME_MAX:
        out.append(
            Problem(
                "too_long",
                "username",
                bounded(username, 32),
                f"不超过 {USERNAME_MAX} 个字符",
                f"at most {USERNAME_MAX} characters",
                "duqiao.zhang",
                f"用户名有 {len(username):,} 个字符，最多 {USERNAME_MAX} 个。",
                f"The username has {len(username):,} characters; at most {USERNAME_MAX} are allowed.",
            )
        )
    if len(password) > PASSWORD_MAX:
        out.append(
            Problem(
                "too_long",
                "password",
                None,
                f"不超过 {PASSWORD_MAX} 个字符",
                f"at most {PASSWORD_MAX} characters",
                "",
                f"密码有 {len(password):,} 个字符，最多 {PASSWORD_MAX} 个。",
                f"The password has {len(password):,} characters; at most {PASSWORD_MAX} are allowed.",
            )
        )
    return out


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


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC


def _last_success(conn: Connection, username: str, window: dt.timedelta) -> dt.datetime | None:
    """The account's last successful sign-in or unlock within the window (failures before it do not count)."""
    return conn.execute(
        select(func.max(login_attempts.c.at)).where(
            login_attempts.c.username == username,
            login_attempts.c.at >= now() - window,
            login_attempts.c.success.is_(True),
        )
    ).scalar()


def _unlocks_at(
    conn: Connection, column, value: str, limit: int, window: dt.timedelta, since: dt.datetime | None = None
) -> dt.datetime | None:
    """When ``value`` (a user name or an address) falls below ``limit`` failures in the window; None if it is below.

    Locked while ``limit`` failures (after ``since``) lie within the window: it opens when the ``limit``-th newest
    leaves it.
    """
    where = [column == value, login_attempts.c.at >= now() - window, login_attempts.c.success.is_(False)]
    if since is not None:
        where.append(login_attempts.c.at > since)
    times = list(
        conn.execute(
            select(login_attempts.c.at).where(and_(*where)).order_by(login_attempts.c.at.desc()).limit(max(limit, 1))
        ).scalars()
    )
    if len(times) < max(limit, 1):
        return None
    return _aware(times[-1]) + window


def _wait(
    conn: Connection, column, value: str, limit: int, window: dt.timedelta, since: dt.datetime | None = None
) -> int | None:
    """Minutes until ``value`` is below ``limit`` failures in the window (at least 1); None if it is."""
    until = _unlocks_at(conn, column, value, limit, window, since)
    return None if until is None else max(1, math.ceil((until - now()).total_seconds() / 60))


@dataclass(frozen=True)
class Lock:
    """An account refused by the throttle: until when, and how many failures count."""

    until: dt.datetime
    failures: int


def account_lock(conn: Connection, username: str, max_failures: int, window_minutes: int) -> Lock | None:
    """The lock of an account (its own failures, from any address), or None when it may sign in."""
    window = dt.timedelta(minutes=window_minutes)
    since = _last_success(conn, username, window)
    until = _unlocks_at(conn, login_attempts.c.username, username, max_failures, window, since)
    if until is None:
        return None
    where = [
        login_attempts.c.username == username,
        login_attempts.c.at >= now() - window,
        login_attempts.c.success.is_(False),
    ]
    if since is not None:
        where.append(login_attempts.c.at > since)
    failures = conn.execute(select(func.count()).select_from(login_attempts).where(*where)).scalar_one()
    return Lock(until, int(failures))


def account_locks(conn: Connection, usernames: list[str], max_failures: int, window_minutes: int) -> dict[str, Lock]:
    """The locked accounts among ``usernames`` (one query over the window's attempts)."""
    window = dt.timedelta(minutes=window_minutes)
    rows = conn.execute(
        select(login_attempts.c.username, login_attempts.c.at, login_attempts.c.success)
        .where(login_attempts.c.at >= now() - window, login_attempts.c.username.in_(usernames))
        .order_by(login_attempts.c.username, login_attempts.c.at)
    ).all()
    failures: dict[str, list[dt.datetime]] = {}
    for name, at, success in rows:
        if success:
            failures[name] = []  # a sign-in or an unlock: the failures before it no longer count
        else:
            failures.setdefault(name, []).append(_aware(at))
    limit = max(max_failures, 1)
    return {
        name: Lock(times[-limit] + window, len(times))
        for name, times in failures.items()
        if len(times) >= limit and times[-limit] + window > now()
    }


def unlock(conn: Connection, username: str, address: str | None) -> None:
    """Record that the account's failures so far no longer count (a successful attempt; the caller audits it)."""
    conn.execute(
        insert(login_attempts).values(
            username=username, address=bounded(address or "-", ADDRESS_MAX), at=now(), success=True
        )
    )


def _refuse_when_locked(
    conn: Connection, username: str, address: str, max_failures: int, per_address: int, window: dt.timedelta
) -> None:
    """Raise :class:`Throttled` (with the longer wait) while the account or the address is locked out."""
    account = _wait(
        conn, login_attempts.c.username, username, max_failures, window, _last_success(conn, username, window)
    )
    place = _wait(conn, login_attempts.c.address, address, per_address, window)
    if account is not None or place is not None:
        raise Throttled(max(account or 0, place or 0), account is not None and (account or 0) >= (place or 0))


def login(
    uow: UnitOfWork,
    username: str,
    password: str,
    address: str,
    max_failures: int,
    window_minutes: int,
    session_hours: int,
    lang: str = "zh",
    max_failures_per_address: int = 20,
) -> Session:
    """Check the credentials (throttled per account and per address) and open a session.

    The lockout is checked before the password, and again when the attempt is written
    (a burst of parallel guesses cannot pass the limit: the ones over it are refused,
    right or wrong). The password is verified outside the write lock.

    Raises:
        InvalidInput: a user name or password over its limit (nothing read or stored).
        Throttled: while the account has ``max_failures`` failures within the window, or the
            address ``max_failures_per_address``; it says how many minutes remain.
        AuthError: for a wrong username or password (the same message, and the same work, for both).
    """
    problems = credential_problems(username, password)
    if problems:
        raise InvalidInput(problems)
    window = dt.timedelta(minutes=window_minutes)
    with uow.read() as conn:
        _refuse_when_locked(conn, username, address, max_failures, max_failures_per_address, window)
        row = conn.execute(select(users).where(users.c.username == username)).first()
    known = row is not None and bool(row.active)
    dummy = _dummy_hash()  # made on the first sign-in of any kind, so that no path pays for it alone
    ok = verify_password(row.password_hash if known else dummy, password) and known
    with uow.write(None, address) as w:
        _refuse_when_locked(w.conn, username, address, max_failures, max_failures_per_address, window)
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


def count_refused_login(
    conn: Connection, username: str, address: str, max_failures_per_address: int, window_minutes: int
) -> bool:
    """Count a sign-in refused before its password was checked (an over-long user name…) as a failure of the address.

    ``username`` is stored as a bounded, marked prefix. Returns False, counting nothing,
    when the address is locked out already (so its refusals stop filling the log).
    """
    window = dt.timedelta(minutes=window_minutes)
    if _wait(conn, login_attempts.c.address, address, max_failures_per_address, window) is not None:
        return False
    conn.execute(
        insert(login_attempts).values(
            username=bounded(username, USERNAME_MAX), address=address, at=now(), success=False
        )
    )
    return True


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
