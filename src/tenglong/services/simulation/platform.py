"""The simulation on the platform: the stored county of a data year, reforms saved and shared, every call scoped.

* :func:`simulate` compares a reform with the baseline over a stored data year: the enterprise-years the platform
  holds (that year and the three before, for the D streaks and the A.2 flags) and every stored project (its
  enterprise's inputs from its latest project). The county is loaded once per process and data version (a
  committed import or a project change makes a new one), its baseline computed once (:class:`Simulator`).
* :func:`sweep` varies one parameter over values.
* :func:`parameter_tree` lists the parameters a reform may change, each with its value in the year, unit, clause
  and the policy's words.
* Reforms are saved (``save_reform``: a new version of a lineage, or its first — never replacing one, so a link to
  a version shows the same reform for good), read (``get_reform``) and listed, each save audited.

Who: ``simulate`` to run and read (the bureau, the departments, the towns, the auditors — not an enterprise: the
comparison names other firms); ``save_reforms`` to save (the bureau and the departments).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Connection, func, insert, select

from ...adapters.db.tables import audit_log, data_imports, enterprise_years, projects, reforms, users
from ...adapters.tabular.template import write_template
from ...core import loader
from ...core.errors import InvalidInput, NotFound, Problem
from ...registers import events
from ...registers.roles import Actor
from ..calculation.contract import parse_json
from ..campaign.common import town_names
from ..data.messages import credit_code_fields, render
from ..data.store import frame_from_db
from ..data.uploads import too_large
from ..data.validation import load_enterprise_years
from ..enterprises.projects import ENTERPRISE_INPUTS, revive
from ..evaluation import methods
from ..evaluation.evaluate import year_data
from ..kernel.scope import require
from ..kernel.uow import UnitOfWork, now
from . import Simulator, changes_detail, snapshot_of, to_json

__all__ = [
    "NAMESPACES",
    "get_reform",
    "list_reforms",
    "load_demo_reforms",
    "load_upload",
    "parameter_tree",
    "save_reform",
    "simulate",
    "stored_snapshot",
    "sweep",
    "years",
]

NAMESPACES = ("tech_renovation", "vertical_industry", "mujun", "class_override", "low_efficiency", "targets")
"""The parameters a reform of the simulation page may change, in the order the page lists them."""
TITLE_MAX, DESCRIPTION_MAX, POINTS_MAX = 200, 4000, 101
_CACHE: OrderedDict[tuple, Simulator] = OrderedDict()
_LOCK = threading.Lock()
CACHED = 4
EXAMPLE_CODE = "91331082MA2AB3CF7N"
"""A credit code as an example in the messages."""
"""Counties kept per process (each a few MB for the demo county; a large county some hundreds)."""


def years(conn: Connection) -> list[int]:
    """The data years the platform holds, oldest first."""
    q = select(enterprise_years.c.year).distinct().order_by(enterprise_years.c.year)
    return [int(y) for y in conn.execute(q).scalars()]


def stored_snapshot(conn: Connection, year: int) -> Any:
    """The stored county of ``year`` as a simulation snapshot.

    Raises:
        PolicyError: no enterprise-years of ``year`` on the platform.
    """
    frame = frame_from_db(conn, list(range(year - 3, year + 1)))
    enterprises: dict[str, dict[str, Any]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for r in conn.execute(select(projects).order_by(projects.c.id)):
        inputs = revive(r.inputs or {})
        enterprises.setdefault(r.credit_code, {}).update({k: inputs[k] for k in ENTERPRISE_INPUTS if k in inputs})
        rows[f"P{r.id}"] = {
            **{k: v for k, v in inputs.items() if k not in ENTERPRISE_INPUTS},
            "enterprise": r.credit_code,
            "application_date": r.application_date.isoformat(),
        }
    doc = {"as_of": f"{year}-12-31", "period": year, "enterprises": enterprises, "projects": rows}
    return snapshot_of(year_data(frame), year, doc if rows else None)


def _version(conn: Connection, year: int) -> tuple:
    """What the stored county of ``year`` depends on: the data imports and the projects (their audited changes)."""
    a = audit_log.c
    return (
        year,
        conn.execute(select(func.max(data_imports.c.id))).scalar(),
        conn.execute(select(func.count(), func.max(projects.c.id)).select_from(projects)).one()[:],
        conn.execute(select(func.max(a.id)).where(a.entity_type.in_(("project", "data_import")))).scalar(),
    )


def simulator(uow: UnitOfWork, year: int) -> Simulator:
    """The simulator of the stored ``year`` (built once per data version, kept for the next call)."""
    with uow.read() as conn:
        key = (id(uow), *_version(conn, year))
        with _LOCK:
            found = _CACHE.get(key)
            if found is not None:
                _CACHE.move_to_end(key)
                return found
        built = Simulator.start(stored_snapshot(conn, year))
    with _LOCK:
        _CACHE[key] = built
        while len(_CACHE) > CACHED:
            _CACHE.popitem(last=False)
    return built


@dataclass
class _Upload:
    owner: int
    expires: float
    simulator: Simulator


_UPLOADS: dict[str, _Upload] = {}
UPLOAD_TTL_S, UPLOADS_PER_USER, UPLOADS_KEPT = 3600, 2, 8
"""An uploaded county lives an hour in the process that read it; a user keeps at most two, the process eight."""


def _bounded(stream: BinaryIO, limit_mb: int) -> bytes:
    data = stream.read(limit_mb * 1024 * 1024 + 1)
    if len(data) > limit_mb * 1024 * 1024:
        raise too_large(limit_mb)
    return data


def load_upload(
    actor: Actor, filename: str | None, data: BinaryIO, projects: BinaryIO | None, year: Any, limit_mb: int
) -> dict[str, Any]:
    """Read an uploaded county — enterprise-years (.xlsx or .csv, the import format) and an optional situation of
    projects (the calculate JSON) — for ``year``; keep it an hour for its uploader. Its token, year and sizes.

    Raises:
        Forbidden: without ``simulate``. TooLarge: a file over ``limit_mb``. InvalidInput: the file's type, the
        year, or the data or situation with problems (every one). PolicyError: no rows for the year.
    """
    require(actor, "simulate")
    suffix = Path(filename or "").suffix.lower()
    problems = []
    if suffix not in (".xlsx", ".csv"):
        problems.append(
            Problem(
                "invalid_file", "data", (filename or "")[:80], "企业数据文件（.xlsx 或 .csv，导入格式）",
                "an enterprise-year file (.xlsx or .csv, the import format)", "企业数据.xlsx",
                "请上传企业数据文件（.xlsx 或 .csv）。", "Upload an enterprise-year file (.xlsx or .csv).",
            )
        )  # fmt: skip
    try:
        y = int(str(year).strip())
    except (TypeError, ValueError):
        y = 0
    if not 2000 <= y <= 2100:
        problems.append(
            Problem(
                "invalid_year", "year", str(year)[:20], "2000 至 2100 的年度", "a year from 2000 to 2100", "2023",
                f"年度 {str(year)[:20]!r} 无效。", f"The year {str(year)[:20]!r} is not valid.",
            )
        )  # fmt: skip
    if problems:
        raise InvalidInput(problems)
    content = _bounded(data, limit_mb)
    doc = parse_json(_bounded(projects, limit_mb)) if projects is not None else None
    with tempfile.TemporaryDirectory(prefix="tenglong-simulate-") as tmp:
        path = Path(tmp) / f"data{suffix}"
        path.write_bytes(content)
        loaded = load_enterprise_years(path)
    if not loaded.ok:
        raise InvalidInput(list(loaded.problems))
    built = Simulator.start(snapshot_of(year_data(loaded.frame), y, doc))
    token = secrets.token_urlsafe(18)
    moment = time.monotonic()
    with _LOCK:
        for key in [k for k, u in _UPLOADS.items() if u.expires < moment]:
            del _UPLOADS[key]
        mine = sorted((u.expires, k) for k, u in _UPLOADS.items() if u.owner == actor.id)
        for _, key in mine[: max(0, len(mine) - UPLOADS_PER_USER + 1)]:
            del _UPLOADS[key]
        while len(_UPLOADS) >= UPLOADS_KEPT:
            del _UPLOADS[min(_UPLOADS, key=lambda k: _UPLOADS[k].expires)]
        _UPLOADS[token] = _Upload(actor.id, moment + UPLOAD_TTL_S, built)
    frames = built.snapshot.frames
    return {
        "snapshot": token,
        "year": y,
        "firms": built.snapshot.data.n,
        "projects": frames["projects"].n if frames else 0,
        "expires_in_s": UPLOAD_TTL_S,
    }


def _uploaded(actor: Actor, token: Any) -> Simulator:
    """The uploaded county ``token`` of this actor (NotFound: another's, expired, or never)."""
    with _LOCK:
        found = _UPLOADS.get(str(token))
    if found is None or found.owner != actor.id or found.expires < time.monotonic():
        raise NotFound(
            str(token)[:24],
            "上传的数据已过期或不存在，请重新上传。",
            "The uploaded data expired or never was; upload it again.",
        )
    return found.simulator


def _simulator_for(uow: UnitOfWork, actor: Actor, year: Any, snapshot: Any) -> Simulator:
    """The uploaded county ``snapshot`` (its own year), else the stored ``year``."""
    if snapshot not in (None, ""):
        return _uploaded(actor, snapshot)
    with uow.read() as conn:
        y = _year(conn, year)
    return simulator(uow, y)


def _year(conn: Connection, raw: Any) -> int:
    held = years(conn)
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        year = None
    if year not in held:
        have = "、".join(str(y) for y in held) or "—"
        raise InvalidInput(
            [
                Problem(
                    "invalid_year", "year", str(raw)[:20], f"平台已有数据的年度之一：{have}",
                    f"a data year the platform holds: {have}", str(held[-1]) if held else "2023",
                    f"平台没有 {str(raw)[:20]} 年度的企业数据（现有：{have}）。",
                    f"The platform holds no enterprise data of {str(raw)[:20]} (it has: {have}).",
                )
            ]
        )  # fmt: skip
    return int(year)


def _decimal_text(value: Any) -> Any:
    """Decimal text as the number it writes ("0.12" → 0.12, as the parameter tree shows values); anything else as
    it is (the reform check says what is wrong with it)."""
    if isinstance(value, dict):
        return {k: _decimal_text(v) for k, v in value.items()}
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return Decimal(value.strip())
    return value


_DECIMAL = re.compile(r"-?\d{1,15}(\.\d{1,12})?")


def _method(reform: Any) -> methods.Method:
    """A reform document ({title, description, changes}) checked in full (ReformError lists every problem); numbers
    may come as decimal text, as the parameter tree gives them."""
    if reform is None or reform == {}:
        return methods.from_json({"title": "", "changes": {}})
    if isinstance(reform, dict) and isinstance(reform.get("changes"), dict):
        reform = {**reform, "changes": {k: _decimal_text(v) for k, v in reform["changes"].items()}}
    return methods.from_json(reform)


def simulate(uow: UnitOfWork, actor: Actor, year: Any, reform: Any, snapshot: Any = None) -> dict[str, Any]:
    """Baseline against ``reform`` over the stored ``year`` (or the county uploaded as ``snapshot``): the simulation
    document, the changes with the values used on both sides, and how long the comparison took (ms).

    Raises:
        Forbidden: without ``simulate``. InvalidInput: a year without data. ReformError: a bad reform (every
        problem; nothing run).
    """
    require(actor, "simulate")
    method = _method(reform)
    s = _simulator_for(uow, actor, year, snapshot)
    started = time.perf_counter()
    c = s.compare(method, remember=True)  # the why panel then asks about the same reform
    doc = to_json(c, method, s.labels)
    took = (time.perf_counter() - started) * 1000
    if snapshot in (None, "") and not actor.sees_all_enterprises:  # a town sees its own firms (the sums stay whole)
        own = town_names().get(actor.town or "", ("",))[0]
        doc["firms"] = [f for f in doc["firms"] if f["town"] == own]
    return {**doc, "changes": changes_detail(c, method), "took_ms": round(took, 1)}


def data_template(actor: Actor, lang: str = "zh") -> bytes:
    """The enterprise-data template (the import's) for a county to upload and simulate on.

    Raises:
        Forbidden: without ``simulate``.
    """
    require(actor, "simulate")
    return write_template(None, "en" if lang == "en" else "zh")


def explain(
    uow: UnitOfWork, actor: Actor, year: Any, reform: Any, credit_code: Any, lang: str = "zh", snapshot: Any = None
) -> dict[str, Any]:
    """Why one firm's class and support differ between the baseline and ``reform`` over the stored ``year`` (or the
    uploaded ``snapshot``): both sides with the values each used, project by project, and the changes that reach it.

    Raises:
        Forbidden: without ``simulate``. InvalidInput: not a credit code, or a year without data. ReformError: a bad
        reform. NotFound: no such firm, or a firm outside a town official's town (the same answer).
    """
    require(actor, "simulate")
    code = str(credit_code or "").strip().upper()
    bad = credit_code_fields(code)
    if bad:
        zh, en, expected_zh, expected_en = render(bad[0], {"where": "统一社会信用代码", "value": code, **bad[1]})
        raise InvalidInput([Problem(bad[0], "credit_code", code[:40], expected_zh, expected_en, EXAMPLE_CODE, zh, en)])
    method = _method(reform)
    s = _simulator_for(uow, actor, year, snapshot)
    if snapshot in (None, "") and not actor.sees_all_enterprises:  # an uploaded county is its uploader's own data
        d = s.snapshot.data
        towns = d.town[d.credit_code == code].astype(str)
        if not len(towns) or not actor.may_see_enterprise(code, str(towns[0])):
            raise NotFound(code, "本辖区没有该统一社会信用代码的企业。", "Your town has no firm with this credit code.")
    doc = s.explain(method, code, lang)
    if snapshot in (None, ""):
        ids = [int(p["id"][1:]) for side in ("baseline", "reform") for p in doc[side]["projects"]]
        with uow.read() as conn:
            names = dict(conn.execute(select(projects.c.id, projects.c.name).where(projects.c.id.in_(ids))).all())
        for side in ("baseline", "reform"):
            for p in doc[side]["projects"]:
                p["name"] = names.get(int(p["id"][1:]))
    return doc


def sweep(
    uow: UnitOfWork, actor: Actor, year: Any, path: Any, values: Any, reform: Any = None, snapshot: Any = None
) -> dict[str, Any]:
    """One parameter over ``values`` (at most 101), on top of ``reform``'s other changes: per point the support by
    clause (元 text), the class counts and the A.2 county figures.

    Raises:
        Forbidden: without ``simulate``. InvalidInput: no values, too many, or a year without data. ReformError: a
        value invalid for the parameter (all listed; nothing run).
    """
    require(actor, "simulate")
    if not isinstance(values, list) or not 1 <= len(values) <= POINTS_MAX:
        raise InvalidInput(
            [
                Problem(
                    "invalid_field", "values", str(values)[:40], f"1 至 {POINTS_MAX} 个取值的列表",
                    f"a list of 1 to {POINTS_MAX} values", "[0.10, 0.11, 0.12]",
                    f"扫描取值须为 1 至 {POINTS_MAX} 个。", f"A sweep takes 1 to {POINTS_MAX} values.",
                )
            ]
        )  # fmt: skip
    base = _method(reform)
    s = _simulator_for(uow, actor, year, snapshot)
    started = time.perf_counter()
    others = {k: v for k, v in (base.changes or {}).items() if k != path}
    checked = [methods.from_json({"title": str(path), "changes": {**others, str(path): v}}) for v in values]
    points = s.sweep_methods(checked, [v for v in values])
    for p in points:
        p["support"] = {k: _yuan(v) for k, v in p["support"].items()}
    return {
        "year": s.snapshot.year,
        "path": path,
        "points": points,
        "took_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _yuan(fen: int) -> str:
    return str((Decimal(int(fen)) / 100).quantize(Decimal("0.01")))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def parameter_tree(year: int | None = None) -> list[dict[str, Any]]:
    """The parameters a reform may change, by namespace, each with its value on the year's last day (or today)."""
    day = dt.date(year, 12, 31) if year else dt.date.today()
    params = loader.parameters()
    clauses = {c.id: c for c in loader.policy().clauses}
    out = []
    for ns in NAMESPACES:
        rows = []
        for p in params:
            if not p.path.startswith(f"{ns}."):
                continue
            clause = clauses.get(p.clause or "")
            rows.append(
                {
                    "path": p.path,
                    "zh": p.description_zh,
                    "en": p.description_en,
                    "kind": p.kind,
                    "unit": p.unit,
                    "term": p.term,
                    "choices": list(p.choices),
                    "clause": p.clause,
                    "clause_title_zh": getattr(clause, "heading_zh", None) if clause else None,
                    "quote": p.quote,
                    "assumption": p.assumption,
                    "note_zh": p.note_zh,
                    "note_en": p.note_en,
                    "value": _plain(p.at(day)),
                    "in_force": p.at(day) is not None,
                }
            )
        out.append({"namespace": ns, "parameters": rows})
    return out


def _text(raw: Any, where: str, limit: int, required: bool, problems: list[Problem]) -> str | None:
    text = str(raw).strip() if raw is not None else ""
    if (required and not text) or len(text) > limit:
        problems.append(
            Problem(
                "invalid_field", where, text[:40], f"1 至 {limit} 个字" if required else f"至多 {limit} 个字",
                f"1 to {limit} characters" if required else f"at most {limit} characters", "技改补助比例提高到12%",
                f"{'标题' if where == 'title' else '说明'}须为{'1 至 ' if required else '至多 '}{limit} 个字。",
                f"The {where} takes {'1 to ' if required else 'at most '}{limit} characters.",
            )
        )  # fmt: skip
    return text or None


def save_reform(uow: UnitOfWork, actor: Actor, reform: Any, of: Any = None, address: str | None = None) -> dict:
    """Save ``reform`` ({title, description, changes}) as a new reform, or as the next version of the lineage of
    the saved reform ``of``; audited. Returns its id, lineage, version and link.

    Raises:
        Forbidden: without ``save_reforms``. NotFound: ``of`` unknown. InvalidInput: the title or description.
        ReformError: the changes (every problem; nothing saved).
    """
    require(actor, "save_reforms")
    doc = reform if isinstance(reform, dict) else {}
    problems: list[Problem] = []
    title = _text(doc.get("title"), "title", TITLE_MAX, True, problems)
    description = _text(doc.get("description"), "description", DESCRIPTION_MAX, False, problems)
    if problems:
        raise InvalidInput(problems)
    method = _method({"title": title, "changes": doc.get("changes") or {}})
    with uow.write(actor, address) as w:
        lineage, version = None, 1
        if of is not None:
            parent = _row(w.conn, of)
            lineage = parent.lineage or parent.id
            version = 1 + int(
                w.conn.execute(
                    select(func.max(reforms.c.version)).where(
                        (reforms.c.lineage == lineage) | (reforms.c.id == lineage)
                    )
                ).scalar()
                or 0
            )
        values = {
            "lineage": lineage,
            "version": version,
            "title": title,
            "description": description,
            "changes": methods.changes_to_json(method.changes) or {},
            "created_by": actor.id,
            "created_at": now(),
        }
        rid = int(w.conn.execute(insert(reforms).values(**values)).inserted_primary_key[0])
        w.record(events.REFORM_SAVE, rid, None, {k: values[k] for k in ("lineage", "version", "title", "changes")})
    return {"id": rid, "lineage": lineage or rid, "version": version, "url": f"/simulate?reform={rid}"}


def _row(conn: Connection, reform_id: Any) -> Any:
    try:
        rid = int(str(reform_id))
    except (TypeError, ValueError):
        raise NotFound(reform_id) from None
    row = conn.execute(select(reforms).where(reforms.c.id == rid)).first()
    if row is None:
        raise NotFound(rid)
    return row


def _public(r: Any, who: str | None) -> dict[str, Any]:
    return {
        "id": int(r.id),
        "lineage": int(r.lineage or r.id),
        "version": int(r.version),
        "title": r.title,
        "description": r.description,
        "changes": r.changes,
        "created_by": who,
        "created_at": r.created_at.isoformat() if r.created_at else None,
        "url": f"/simulate?reform={int(r.id)}",
    }


def get_reform(uow: UnitOfWork, actor: Actor, reform_id: Any) -> dict[str, Any]:
    """A saved reform (one version).

    Raises:
        Forbidden: without ``simulate``. NotFound: no such reform.
    """
    require(actor, "simulate")
    with uow.read() as conn:
        r = _row(conn, reform_id)
        who = conn.execute(select(users.c.display_name).where(users.c.id == r.created_by)).scalar()
    return _public(r, who)


def list_reforms(uow: UnitOfWork, actor: Actor) -> list[dict[str, Any]]:
    """Every saved reform version, newest first."""
    require(actor, "simulate")
    with uow.read() as conn:
        rows = conn.execute(
            select(reforms, users.c.display_name)
            .join(users, users.c.id == reforms.c.created_by)
            .order_by(reforms.c.id.desc())
        ).all()
    return [_public(r, r.display_name) for r in rows]


DEMO_REFORMS = (
    {
        "title": "技改补助比例提高到12%（示例）",
        "description": "重大技改项目按设备投资额的12%补助（现行10%），其余不变。",
        "changes": {"tech_renovation.major_rate": Decimal("0.12")},
    },
    {
        "title": "规上A类比例提高到25%（示例）",
        "description": "规上企业A类比例由20%提高到25%（B类相应减为55%），看类别变化对2.11垂直工业奖励的影响。",
        "changes": {"mujun.quotas_above_scale": {"A": Decimal("0.25"), "B": Decimal("0.55"), "C": Decimal("0.15"),
                                                 "D": Decimal("0.05")}},
    },
)  # fmt: skip
"""Two reforms the demo county comes with, saved by the bureau, to open on the simulation page."""


def load_demo_reforms(uow: UnitOfWork, admin: Actor) -> list[int]:
    """Save :data:`DEMO_REFORMS` as the admin; their ids."""
    return [save_reform(uow, admin, reform)["id"] for reform in DEMO_REFORMS]
