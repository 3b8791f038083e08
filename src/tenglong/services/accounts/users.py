"""User accounts: list, create, deactivate and reactivate, reset a password, unlock (``manage_users``; admin only).

Every change is audited in its own transaction, and no audit record ever holds a
password or a hash. Deactivating an account, or resetting its password, ends
its sessions in the same transaction. An administrator cannot deactivate their
own account, so there is always one active administrator. An account the login
throttle locked shows until when; unlocking it makes its failures so far no longer
count (``user.unlock``, with the lock it lifted).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

from ...adapters.db.tables import enterprises, sessions, users
from ...core.errors import Conflict, InvalidInput, NotFound, Problem
from ...core.reference_data import towns
from ...registers import events
from ...registers.roles import ROLES, Actor
from ..kernel.platform import Platform
from ..kernel.scope import require
from ..kernel.uow import bounded
from . import auth

MIN_PASSWORD = 10
"""Shortest accepted password."""
MAX_PASSWORD = 256
"""Longest accepted password."""
USERNAME = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
"""A whole user name (``fullmatch``: no trailing newline slips through)."""
MAX_DISPLAY_NAME = 128
"""Longest display name (``users.display_name``)."""
MAX_DEPARTMENT = 64
"""Longest department name (``users.department``)."""
ECHO_MAX = 64
"""Longest echo of a bad value in a problem (a longer one is cut, and marked)."""
ROLE_NAMES = {
    "admin": ("市经信局管理员", "administrator"),
    "department": ("部门", "department"),
    "town": ("镇(街道)", "town"),
    "enterprise": ("企业", "enterprise"),
    "auditor": ("审计", "auditor"),
}
"""What each role is called in the problems of the account form (as on the pages)."""


@dataclass(frozen=True)
class NewUser:
    """The fields of the create-user form."""

    username: str
    display_name: str
    password: str
    role: str
    town: str | None = None
    credit_code: str | None = None
    department: str | None = None


@dataclass(frozen=True)
class UserView:
    """One account as the admin pages and the API show it (never the hash)."""

    id: int
    username: str
    display_name: str
    role: str
    town: str | None
    town_zh: str | None
    town_en: str | None
    credit_code: str | None
    enterprise_name: str | None
    department: str | None
    active: bool
    created_at: Any
    locked_until: Any = None
    """While the login throttle refuses the account: when it opens again (UTC); None when it may sign in."""
    failures: int = 0
    """The failed sign-ins that count towards the lock (0 when it is not locked)."""

    @property
    def locked(self) -> bool:
        """The login throttle refuses this account now."""
        return self.locked_until is not None


def _aware(moment: Any) -> Any:
    """SQLite returns naive UTC times; make them aware."""
    return moment.replace(tzinfo=dt.UTC) if moment is not None and moment.tzinfo is None else moment


def _check(actor: Actor) -> None:
    require(actor, "manage_users")


def town_choices() -> list[tuple[str, str, str]]:
    """The 21 units a town account can belong to: (code, Chinese name, English name)."""
    return [(t.code, t.name_zh, t.name_en) for t in towns()]


def _views(p: Platform, user_id: int | None = None) -> list[UserView]:
    names = {code: (zh, en) for code, zh, en in town_choices()}
    q = (
        select(
            users.c.id,
            users.c.username,
            users.c.display_name,
            users.c.role,
            users.c.town,
            users.c.credit_code,
            users.c.department,
            users.c.active,
            users.c.created_at,
            enterprises.c.name.label("enterprise_name"),
        )
        .outerjoin(enterprises, enterprises.c.credit_code == users.c.credit_code)
        .order_by(users.c.id)
    )
    if user_id is not None:
        q = q.where(users.c.id == user_id)
    settings = p.settings
    with p.uow.read() as conn:
        rows = conn.execute(q).all()
        locks = auth.account_locks(
            conn, [r.username for r in rows], settings.login_max_failures, settings.login_window_minutes
        )
    return [
        UserView(
            r.id,
            r.username,
            r.display_name,
            r.role,
            r.town,
            *names.get(r.town or "", (None, None)),
            r.credit_code,
            r.enterprise_name,
            r.department,
            bool(r.active),
            _aware(r.created_at),
            locks[r.username].until if r.username in locks else None,
            locks[r.username].failures if r.username in locks else 0,
        )
        for r in rows
    ]


def list_users(p: Platform, actor: Actor) -> list[UserView]:
    """Every account, oldest first, with its town name and enterprise name.

    Raises:
        Forbidden: for a role without ``manage_users``.
    """
    _check(actor)
    return _views(p)


def get_user(p: Platform, actor: Actor, user_id: int) -> UserView:
    """One account.

    Raises:
        Forbidden: for a role without ``manage_users``.
        NotFound: for an unknown id.
    """
    _check(actor)
    found = _views(p, user_id)
    if not found:
        raise NotFound(user_id)
    return found[0]


def _problem(
    code: str, field: str, value: Any, expected_zh: str, expected_en: str, example: str, zh: str, en: str
) -> Problem:
    return Problem(code, field, value, expected_zh, expected_en, example, zh, en)


def password_problems(password: str, username: str | None = None, field: str = "password") -> list[Problem]:
    """What is wrong with a new password (the value itself is never echoed)."""
    out = []
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        short = len(password) < MIN_PASSWORD
        out.append(
            _problem(
                "password_length",
                field,
                None,
                f"{MIN_PASSWORD}–{MAX_PASSWORD} 个字符",
                f"{MIN_PASSWORD}–{MAX_PASSWORD} characters",
                "",
                f"密码须至少 {MIN_PASSWORD} 个字符（现有 {len(password)} 个）。"
                if short
                else f"密码最多 {MAX_PASSWORD} 个字符（现有 {len(password):,} 个）。",
                f"The password needs at least {MIN_PASSWORD} characters (it has {len(password)})."
                if short
                else f"The password has at most {MAX_PASSWORD} characters (it has {len(password):,}).",
            )
        )
    elif username and password.casefold() == username.casefold():
        out.append(
            _problem(
                "password_is_username",
                field,
                None,
                "与用户名不同的密码",
                "a password other than the username",
                "",
                "密码不能与用户名相同。",
                "The password must differ from the username.",
            )
        )
    return out


def _scope_problems(conn: Any, new: NewUser) -> list[Problem]:
    out = []
    if new.role == "town" and new.town not in {code for code, _, _ in town_choices()}:
        out.append(
            _problem(
                "unknown_town",
                "town",
                bounded(new.town, ECHO_MAX) if new.town else new.town,
                "临海市 19 个镇(街道)和 2 个开发区之一：" + "、".join(zh for _, zh, _ in town_choices()),
                "one of Linhai's 19 towns and 2 zones: " + ", ".join(en for _, _, en in town_choices()),
                "331082112",
                "镇街账号须从列表中选择所属镇(街道)。",
                "A town account needs its town, chosen from the list.",
            )
        )
    if new.role == "enterprise":
        code = (new.credit_code or "").strip().upper()
        known = (
            code
            and len(code) <= 18
            and conn.execute(select(enterprises.c.credit_code).where(enterprises.c.credit_code == code)).first()
        )
        if not known:
            out.append(
                _problem(
                    "unknown_enterprise",
                    "credit_code",
                    bounded(new.credit_code, ECHO_MAX) if new.credit_code else None,
                    "已有企业的18位统一社会信用代码",
                    "the 18-character credit code of an enterprise in the database",
                    "91331082MA2AB3CF7N",
                    f"找不到统一社会信用代码为「{bounded(code, ECHO_MAX)}」的企业；企业账号须对应已导入的企业。"
                    if code
                    else "企业账号须填写统一社会信用代码。",
                    f"No enterprise has the credit code {bounded(code, ECHO_MAX)!r}; "
                    "an enterprise account needs an imported enterprise."
                    if code
                    else "An enterprise account needs its credit code.",
                )
            )
    if new.role == "department" and not (new.department or "").strip():
        out.append(
            _problem(
                "missing_department",
                "department",
                None,
                "部门名称",
                "the department's name",
                "市自然资源规划局",
                "部门账号须填写所属部门。",
                "A department account needs its department.",
            )
        )
    return out


def check_new_user(conn: Any, new: NewUser) -> list[Problem]:
    """Every problem of a create-user form, at once."""
    out = []
    if not USERNAME.fullmatch(new.username):
        out.append(
            _problem(
                "invalid_username",
                "username",
                bounded(new.username, ECHO_MAX),
                "3–64 个字母、数字或 _ . @ -",
                "3–64 letters, digits or _ . @ -",
                "duqiao.zhang",
                "用户名须为 3–64 个字母、数字或 _ . @ -。",
                "A username is 3–64 letters, digits or _ . @ -.",
            )
        )
    elif conn.execute(select(users.c.id).where(func.lower(users.c.username) == new.username.lower())).first():
        out.append(
            _problem(
                "username_taken",
                "username",
                new.username,
                "未被使用的用户名",
                "a username not in use",
                f"{new.username}2",
                f"用户名 {new.username} 已存在。",
                f"The username {new.username} is taken.",
            )
        )
    if not new.display_name.strip() or len(new.display_name.strip()) > MAX_DISPLAY_NAME:
        out.append(
            _problem(
                "invalid_display_name",
                "display_name",
                bounded(new.display_name, ECHO_MAX) or None,
                f"1–{MAX_DISPLAY_NAME} 个字符的姓名或单位",
                f"a name of 1–{MAX_DISPLAY_NAME} characters",
                "杜桥镇 经济发展办 张三",
                f"请填写姓名（最多 {MAX_DISPLAY_NAME} 个字符，现有 {len(new.display_name.strip()):,} 个）。",
                f"Give a name (at most {MAX_DISPLAY_NAME} characters; it has {len(new.display_name.strip()):,}).",
            )
        )
    if len((new.department or "").strip()) > MAX_DEPARTMENT:
        out.append(
            _problem(
                "department_too_long",
                "department",
                bounded(new.department or "", ECHO_MAX),
                f"不超过 {MAX_DEPARTMENT} 个字符的部门名称",
                f"a department name of at most {MAX_DEPARTMENT} characters",
                "市自然资源规划局",
                f"部门名称最多 {MAX_DEPARTMENT} 个字符（现有 {len((new.department or '').strip()):,} 个）。",
                f"The department has at most {MAX_DEPARTMENT} characters (it has "
                f"{len((new.department or '').strip()):,}).",
            )
        )
    if new.role not in ROLES:
        out.append(
            _problem(
                "unknown_role",
                "role",
                bounded(new.role, ECHO_MAX),
                "、".join(f"{ROLE_NAMES[r][0]}（{r}）" for r in ROLES),
                ", ".join(f"{ROLE_NAMES[r][1]} ({r})" for r in ROLES),
                "town",
                f"角色「{bounded(new.role, ECHO_MAX)}」无效；应为"
                + "、".join(ROLE_NAMES[r][0] for r in ROLES)
                + "之一。",
                f"Unknown role {bounded(new.role, ECHO_MAX)!r}; expected one of "
                + ", ".join(ROLE_NAMES[r][1] for r in ROLES)
                + ".",
            )
        )
    return out + password_problems(new.password, new.username) + _scope_problems(conn, new)


def create(p: Platform, actor: Actor, new: NewUser, address: str | None = None) -> int:
    """Create an account (argon2 hash via :func:`auth.create_user`; audited without the password).

    Only the scope of the role is kept: the town of a town account, the credit code of
    an enterprise account, the department of a department (or admin/auditor) account.

    Raises:
        Forbidden: for a role without ``manage_users``.
        InvalidInput: with every problem of the form (422).
    """
    _check(actor)
    with p.uow.read() as conn:
        found = check_new_user(conn, new)
    if found:
        raise InvalidInput(found)
    town = new.town if new.role == "town" else None
    code = (new.credit_code or "").strip().upper() if new.role == "enterprise" else None
    department = (new.department or "").strip() or None if new.role in ("department", "admin", "auditor") else None
    return auth.create_user(
        p.uow,
        actor,
        new.username,
        new.display_name.strip(),
        new.password,
        new.role,
        town=town,
        credit_code=code,
        department=department,
        address=address,
    )


def _target(conn: Any, user_id: int) -> Any:
    row = conn.execute(select(users.c.id, users.c.username, users.c.active).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(user_id)
    return row


def _end_sessions(conn: Any, user_id: int) -> int:
    return int(conn.execute(delete(sessions).where(sessions.c.user_id == user_id)).rowcount or 0)


def deactivate(p: Platform, actor: Actor, user_id: int, address: str | None = None) -> int:
    """Deactivate an account and end its sessions (audited). Returns the number of sessions ended.

    Raises:
        Forbidden: for a role without ``manage_users``.
        NotFound: for an unknown id.
        Conflict: for one's own account, or an account already inactive.
    """
    _check(actor)
    with p.uow.write(actor, address) as w:
        row = _target(w.conn, user_id)
        if row.id == actor.id:
            raise Conflict("不能停用自己的账号。", "You cannot deactivate your own account.")
        if not row.active:
            raise Conflict(f"账号 {row.username} 已停用。", f"The account {row.username} is already inactive.")
        w.conn.execute(update(users).where(users.c.id == user_id).values(active=False))
        ended = _end_sessions(w.conn, user_id)
        w.record(
            events.USER_DEACTIVATE,
            user_id,
            {"username": row.username, "active": True},
            {"username": row.username, "active": False, "sessions_ended": ended},
        )
    return ended


def reactivate(p: Platform, actor: Actor, user_id: int, address: str | None = None) -> None:
    """Reactivate an account (audited).

    Raises:
        Forbidden: for a role without ``manage_users``.
        NotFound: for an unknown id.
        Conflict: for an account that is active.
    """
    _check(actor)
    with p.uow.write(actor, address) as w:
        row = _target(w.conn, user_id)
        if row.active:
            raise Conflict(f"账号 {row.username} 已是启用状态。", f"The account {row.username} is already active.")
        w.conn.execute(update(users).where(users.c.id == user_id).values(active=True))
        w.record(
            events.USER_REACTIVATE,
            user_id,
            {"username": row.username, "active": False},
            {"username": row.username, "active": True},
        )


def reset_password(p: Platform, actor: Actor, user_id: int, password: str, address: str | None = None) -> int:
    """Set a new password (argon2) and end the account's other sessions (audited without any secret).

    The administrator's own sessions are kept when they reset their own password.

    Returns:
        The number of sessions ended.

    Raises:
        Forbidden: for a role without ``manage_users``.
        NotFound: for an unknown id.
        InvalidInput: for a password shorter than :data:`MIN_PASSWORD`.
    """
    _check(actor)
    with p.uow.write(actor, address) as w:
        row = _target(w.conn, user_id)
        found = password_problems(password, row.username)
        if found:
            raise InvalidInput(found)
        w.conn.execute(update(users).where(users.c.id == user_id).values(password_hash=auth.hash_password(password)))
        ended = 0 if row.id == actor.id else _end_sessions(w.conn, user_id)
        w.record(
            events.USER_RESET_PASSWORD,
            user_id,
            None,
            {"username": row.username, "password_changed": True, "sessions_ended": ended},
        )
    return ended


def unlock(p: Platform, actor: Actor, user_id: int, address: str | None = None) -> None:
    """Lift the login throttle's lock of an account: its failed sign-ins so far no longer count (audited as
    ``user.unlock`` with the lock lifted). The lock of an address (too many failures from one client) stays.

    Raises:
        Forbidden: for a role without ``manage_users``.
        NotFound: for an unknown id.
        Conflict: for an account that is not locked.
    """
    _check(actor)
    settings = p.settings
    with p.uow.write(actor, address) as w:
        row = _target(w.conn, user_id)
        lock = auth.account_lock(w.conn, row.username, settings.login_max_failures, settings.login_window_minutes)
        if lock is None:
            raise Conflict(
                f"账号 {row.username} 未被锁定，无需解除。",
                f"The account {row.username} is not locked; there is nothing to unlock.",
            )
        auth.unlock(w.conn, row.username, address)
        w.record(
            events.USER_UNLOCK,
            user_id,
            {"username": row.username, "locked_until": lock.until, "failures": lock.failures},
            {"username": row.username, "locked_until": None, "failures": 0},
        )
