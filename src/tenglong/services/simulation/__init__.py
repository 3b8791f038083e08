"""What-if simulation (issue 12): a reform over the whole county against the baseline, for ``tenglong simulate``.

* :func:`load_snapshot` reads the county of one data year from an enterprise-year file (the import format) and
  an optional situation of projects (the ``tenglong calculate`` format, enterprises keyed by credit code) into a
  columnar ``core.simulate.Snapshot`` — once; everything after works on columns.
* :class:`Simulator` keeps the snapshot and the baseline side, and compares any reform with it
  (:meth:`Simulator.compare`), or sweeps one parameter over values (:meth:`Simulator.sweep`).
* :func:`to_json` gives the comparison in the documented shape (money as 元 text with two decimals, clause ids as
  keys, towns and industries by name); :func:`summary` the table ``tenglong simulate`` prints.

A reform is the ``--method`` format (``services/evaluation/methods.py``): every error at once, nothing applied.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from ...core import loader, reference_data
from ...core import simulate as sim
from ...core.errors import InvalidInput, NotFound, PolicyError
from ...core.frame import Frame
from ...core.mujun.data import YearData
from ...core.parameters import ParameterSet
from ...core.situation import read_situation
from ...core.targets import COUNTY_KEYS
from ...core.variables import ENTITY_KINDS
from ...locale import t
from ..calculation.contract import parse_json
from ..data.validation import load_enterprise_years
from ..evaluation.evaluate import year_data
from ..evaluation.methods import Method, changes_to_json

__all__ = [
    "OUTSIDE",
    "Labels",
    "Simulator",
    "changes_detail",
    "labels_of",
    "load_snapshot",
    "scale_of",
    "snapshot_of",
    "summary",
    "to_json",
    "typed",
]


def _chain(years: Mapping[int, YearData], year: int) -> dict[int, YearData]:
    if year not in years:
        have = ", ".join(str(y) for y in sorted(years)) or "—"
        raise PolicyError(
            f"数据中没有 {year} 年度的记录（现有年度：{have}）。",
            f"The data has no rows for {year} (years present: {have}).",
        )
    keep = [y for y in sorted(years) if y <= year and all(z in years for z in range(y, year + 1))]
    return {y: years[y] for y in keep}


def snapshot_of(years: Mapping[int, YearData], year: int, situation_doc: Any | None = None) -> sim.Snapshot:
    """A snapshot of ``year`` from data years and a parsed situation document (or none).

    Raises:
        PolicyError: no data for ``year``. InvalidInput: a situation with problems (all of them).
    """
    chain = _chain(years, year)
    if situation_doc is None:
        return sim.Snapshot(year, chain)
    registry = loader.variables()
    s = read_situation(situation_doc, registry)
    refs = {k: t.index for k, t in s.tables.items()}
    frames = {k: Frame(s.table(k), registry, s.period, s.period, refs) for k in ENTITY_KINDS}
    codes = np.asarray(frames["enterprises"].ids, dtype=str)
    data = chain[year]
    order = np.argsort(data.credit_code, kind="stable")
    sorted_codes = data.credit_code[order]
    at = np.searchsorted(sorted_codes, codes)
    found = (at < len(sorted_codes)) & (sorted_codes[np.minimum(at, len(sorted_codes) - 1)] == codes)
    data_row = np.where(found, order[np.minimum(at, len(order) - 1)], -1).astype(np.int64)
    return sim.Snapshot(year, chain, frames, s.as_of, s.period, data_row)


def load_snapshot(
    data: str | Path, year: int, projects: str | Path | None = None, sheet: str | None = None
) -> sim.Snapshot:
    """The county of ``year`` from an enterprise-year file and an optional situation file.

    Raises:
        InvalidInput: the data or the situation have problems (every one). PolicyError: no rows for ``year``.
    """
    loaded = load_enterprise_years(data, sheet=sheet)
    if not loaded.ok:
        raise InvalidInput(list(loaded.problems))
    doc = parse_json(Path(projects).read_bytes()) if projects is not None else None
    return snapshot_of(year_data(loaded.frame), year, doc)


REMEMBERED = 2
"""How many reforms' sides a simulator keeps (each holds the county's columns once more)."""


@dataclass(frozen=True)
class Simulator:
    """A snapshot and its baseline side, computed once (:meth:`start`); reforms are compared against it."""

    snapshot: sim.Snapshot
    baseline_params: ParameterSet
    baseline: sim.Side
    labels: Labels
    recent: OrderedDict[str, sim.Side] = field(default_factory=OrderedDict, repr=False, compare=False)
    """The last reforms' sides asked with ``remember`` (the page's comparison, then its why panel, of one reform)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def start(cls, snapshot: sim.Snapshot, params: ParameterSet | None = None) -> Simulator:
        """Compute the baseline of ``snapshot`` under ``params`` (default: the policy's), and its labels."""
        params = params or loader.parameters()
        return cls(snapshot, params, sim.side(snapshot, params, loader.policy()), labels_of(snapshot))

    def document(self, method: Method) -> dict[str, Any]:
        """Baseline against ``method`` as the JSON document."""
        return to_json(self.compare(method), method, self.labels)

    def side(self, method: Method, remember: bool = False) -> sim.Side:
        """The county under ``method``; what its changes cannot reach is the baseline's. With ``remember``, the side
        is kept (the last few) and a later call with the same changes reuses it."""
        key = json.dumps(changes_to_json(method.changes), sort_keys=True, default=str) if remember else ""
        if remember:
            with self._lock:
                if key in self.recent:
                    self.recent.move_to_end(key)
                    return self.recent[key]
        params = method.parameters(self.baseline_params)
        out = sim.side(self.snapshot, params, loader.policy(), self.baseline, method.changes or {})
        if remember:
            with self._lock:
                self.recent[key] = out
                while len(self.recent) > REMEMBERED:
                    self.recent.popitem(last=False)
        return out

    def compare(self, method: Method, remember: bool = False) -> sim.Comparison:
        """Baseline against ``method`` (its side kept for the next call with the same changes, with ``remember``)."""
        return sim.compare(self.snapshot, self.baseline, self.side(method, remember))

    def explain(self, method: Method, credit_code: str, lang: str = "zh") -> dict[str, Any]:
        """Why one firm's class and support differ between the baseline and ``method`` (:func:`firm_explanation`)."""
        return firm_explanation(self.compare(method, remember=True), method, credit_code, lang)

    def sweep(self, path: str, values: Iterable[Any], title: str | None = None) -> list[dict[str, Any]]:
        """One parameter set to each of ``values`` in turn: per point, the support by clause (分, with ``total``),
        the class counts (规上, 规下) and the A.2 county figures. Every value is checked before anything runs; the
        points run on the machine's cores (threads: numpy releases the interpreter) and only their figures are kept.

        Raises:
            ReformError: any value invalid for the parameter (all listed).
        """
        from ..evaluation.methods import from_json

        values = list(values)
        return self.sweep_methods([from_json({"title": title or path, "changes": {path: v}}) for v in values], values)

    def sweep_methods(self, methods: list[Method], values: list[Any]) -> list[dict[str, Any]]:
        """Each checked method's figures (as :meth:`sweep`), labelled with ``values``, run on the machine's cores."""
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            return list(pool.map(self._point, values, methods))

    def _point(self, value: Any, method: Method) -> dict[str, Any]:
        c = self.compare(method)
        return {
            "value": value,
            "support": c.totals("reform"),
            "classes": {"above_scale": c.counts(True, "reform"), "below_scale": c.counts(False, "reform")},
            "targets": {k: v["value"] for k, v in c.reform.result.county.items()},
        }


def _town_names() -> dict[str, str]:
    return {t.code: t.name_zh for t in reference_data.towns()}


def _divisions() -> dict[str, str]:
    return {i.code: f"{i.code} {i.name_zh}" for i in reference_data.industries() if i.level == "division"}


def _money(fen: int) -> str:
    return sim.yuan(fen)


OUTSIDE = "（数据外企业）"
"""The town and industry of a project whose firm is not in the data year (its situation's only)."""


@dataclass(frozen=True)
class Labels:
    """Each project's town and industry (division) as codes into names: computed once per snapshot."""

    town: tuple[np.ndarray, tuple[str, ...]]
    industry: tuple[np.ndarray, tuple[str, ...]]


def labels_of(snapshot: sim.Snapshot) -> Labels:
    """The projects' towns and industries by name, from their firm's data row (else ``OUTSIDE``)."""
    pe = snapshot.project_enterprise
    d = snapshot.data
    rows = snapshot.data_row[pe] if len(pe) else np.zeros(0, dtype=np.int64)
    inside = rows >= 0
    safe = np.where(inside, rows, 0)
    towns, divs = _town_names(), _divisions()

    def coded(values: np.ndarray, name: Any) -> tuple[np.ndarray, tuple[str, ...]]:
        keys, inverse = np.unique(np.where(inside, values, ""), return_inverse=True)
        return inverse.astype(np.int64), tuple(name(str(k)) if k else OUTSIDE for k in keys)

    if not len(pe) or not d.n:
        empty = (np.zeros(len(pe), dtype=np.int64), (OUTSIDE,))
        return Labels(empty, empty)
    return Labels(
        coded(d.town[safe], lambda k: towns.get(k, k)),
        coded(np.char.ljust(d.industry[safe].astype(str), 3).astype("<U3"), lambda k: divs.get(k, k)),
    )


def _side_by(c: sim.Comparison, label: tuple[np.ndarray, tuple[str, ...]]) -> dict[str, dict[str, str]]:
    codes, names = label
    b, r = c.by(codes, names, "baseline"), c.by(codes, names, "reform")
    return {
        k: {"baseline": _money(b.get(k, 0)), "reform": _money(r.get(k, 0)), "change": _money(r.get(k, 0) - b.get(k, 0))}
        for k in sorted(set(b) | set(r))
    }


def _classes(c: sim.Comparison, above: bool) -> dict[str, Any]:
    m = c.migration(above)
    return {
        "baseline": c.counts(above, "baseline"),
        "reform": c.counts(above, "reform"),
        "migration": {a: {b: int(m[i, j]) for j, b in enumerate(sim.CLASSES)} for i, a in enumerate(sim.CLASSES)},
    }


def _firms(c: sim.Comparison) -> list[dict[str, str]]:
    """Every firm whose class or support changes (largest change first), with both values — built column-wise."""
    d, towns = c.snapshot.data, _town_names()
    rows = c.changed()
    b_sup, r_sup = c.firm_support["baseline"][rows], c.firm_support["reform"][rows]
    columns = {
        "credit_code": d.credit_code[rows].astype(str),
        "town": np.array([towns.get(t, t) for t in d.town[rows].astype(str)], dtype=str),
        "class_baseline": np.where(c.baseline.classes[rows] == "", "—", c.baseline.classes[rows]),
        "class_reform": np.where(c.reform.classes[rows] == "", "—", c.reform.classes[rows]),
        "support_baseline": sim.yuan_texts(b_sup),
        "support_reform": sim.yuan_texts(r_sup),
        "change": sim.yuan_texts(r_sup - b_sup),
    }
    order = [np.lexsort((columns["credit_code"], -np.abs(r_sup - b_sup)))]
    snap = c.snapshot
    if snap.frames is not None:
        eb, er = c.extra_support["baseline"], c.extra_support["reform"]
        extra = np.flatnonzero((snap.data_row < 0) & (eb != er))
        if len(extra):
            cls = np.where(c.baseline.enterprise_class[extra] == "", "—", c.baseline.enterprise_class[extra])
            added = {
                "credit_code": np.asarray(snap.frames["enterprises"].ids, dtype=str)[extra],
                "town": np.full(len(extra), ""),
                "class_baseline": cls,
                "class_reform": cls,
                "support_baseline": sim.yuan_texts(eb[extra]),
                "support_reform": sim.yuan_texts(er[extra]),
                "change": sim.yuan_texts(er[extra] - eb[extra]),
            }
            change = np.concatenate([r_sup - b_sup, er[extra] - eb[extra]])
            columns = {k: np.concatenate([v, added[k]]) for k, v in columns.items()}
            order = [np.lexsort((columns["credit_code"], -np.abs(change)))]
    keys = list(columns)
    ordered = [columns[k][order[0]].tolist() for k in keys]
    return [dict(zip(keys, values, strict=True)) for values in zip(*ordered, strict=True)]


def _targets(c: sim.Comparison) -> list[dict[str, Any]]:
    out = []
    params = loader.parameters()
    for key in COUNTY_KEYS:
        b, r = c.baseline.result.county.get(key), c.reform.result.county.get(key)
        if b is None or r is None:
            continue
        p = params[f"targets.{key}"]
        out.append(
            {
                "key": key,
                "clause": p.clause,
                "zh": p.description_zh,
                "en": p.description_en,
                "unit": p.unit,
                "baseline": {
                    "figure": _fig(b["value"]),
                    "target": str(b["target"]),
                    "term": b["term"],
                    "met": bool(b["met"]),
                },
                "reform": {
                    "figure": _fig(r["value"]),
                    "target": str(r["target"]),
                    "term": r["term"],
                    "met": bool(r["met"]),
                },
            }
        )
    for key, attr, zh, en in (
        ("low_efficiency_enterprises", "low_efficiency", "附件二低效企业（家）", "A.2 low-efficiency firms"),
        (
            "billion_yuan_low_tax_enterprises",
            "billion_low_tax",
            "亩均税收偏低的亿元企业（家）",
            "A.2 billion-yuan low-tax firms",
        ),
    ):
        nb, nr = int(getattr(c.baseline.result, attr).sum()), int(getattr(c.reform.result, attr).sum())
        out.append(
            {
                "key": key,
                "clause": "A.2",
                "zh": zh,
                "en": en,
                "unit": "家",
                "baseline": nb,
                "reform": nr,
                "change": nr - nb,
            }
        )
    return out


def _fig(value: float) -> str | None:
    return None if value != value else f"{value:.4f}"


def _surcharges(c: sim.Comparison) -> dict[str, Any]:
    amounts = c.surcharge_amounts()
    out: dict[str, Any] = {
        "electricity": {
            "clause": "2.15",
            "baseline": _money(amounts["baseline"]),
            "reform": _money(amounts["reform"]),
            "change": _money(amounts["reform"] - amounts["baseline"]),
        }
    }
    for key, attr in (("electricity_rate_firms", "surcharge"), ("land_use_tax_relief_firms", "relief")):
        rows = {}
        for which, s in (("baseline", c.baseline), ("reform", c.reform)):
            values = getattr(s.result, attr)[s.result.evaluated]
            keys, counts = np.unique(np.round(values, 6), return_counts=True)
            rows[which] = {f"{Decimal(str(k)).normalize():f}": int(n) for k, n in zip(keys, counts, strict=True)}
        out[key] = rows
    return out


def scale_of(unit: str | None) -> str:
    """How a value of ``unit`` is typed and read: ``pct`` (a ratio as a percentage), ``wan`` (元 in 万元) or ``""``."""
    return {"ratio": "pct", "元": "wan"}.get(unit or "", "")


def typed(value: Any, scale: str) -> str:
    """A stored value as the official types it: 0.12 → ``12`` (%), 3000000 → ``300`` (万元); exact, no exponent."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    d = d * 100 if scale == "pct" else d / 10_000 if scale == "wan" else d
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(value: Any, unit: str | None, lang: str = "zh") -> str:
    """A parameter's value as an official reads it: a ratio as a percentage, 元 in 万元, a table entry by entry.

    >>> _shown({"A": Decimal("0.20"), "B": 0.5}, "ratio"), _shown(3000000, "元", "en"), _shown(True, None)
    ('A 20%、B 50%', '300 万元', '是')
    """
    if isinstance(value, dict):
        return ("、" if lang == "zh" else ", ").join(f"{k} {_shown(v, unit, lang)}" for k, v in value.items())
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    scale = scale_of(unit)
    suffix = {"pct": "%", "wan": " 万元"}.get(scale, f" {unit}" if unit else "")
    return typed(value, scale) + suffix


def changes_detail(c: sim.Comparison, method: Method) -> list[dict[str, Any]]:
    """Each changed parameter with its value in the baseline and in the reform on the data year's last day, its
    clause, unit and what it reaches — so every difference can be traced to the change that caused it."""
    day = dt.date(c.snapshot.year, 12, 31)
    out = []
    for path in method.changes or {}:
        p, q = c.baseline.params[path], c.reform.params[path]
        evaluation = str(path).startswith(sim.EVALUATION_NAMESPACES)
        out.append(
            {
                "path": path,
                "zh": p.description_zh,
                "en": p.description_en,
                "clause": p.clause or "—",
                "unit": p.unit,
                "assumption": p.assumption,
                "baseline": _shown(p.at(day), p.unit),
                "reform": _shown(q.at(day), q.unit),
                "baseline_en": _shown(p.at(day), p.unit, "en"),
                "reform_en": _shown(q.at(day), q.unit, "en"),
                "reaches": "亩均评价类别，并经类别影响 2.11 奖励与差别化政策"
                if evaluation
                else f"第 {p.clause} 条的扶持金额",
                "reaches_en": "the 亩均 classes, and through them the 2.11 rewards and differential prices"
                if evaluation
                else f"the amounts of clause {p.clause}",
            }
        )
    return out


def _explained_side(e: dict[str, Any], lang: str) -> dict[str, Any]:
    """One side of a firm's explanation with its money as 元 text and each status in words."""
    projects = [
        {
            "id": p["id"],
            "support": {k: _money(v) for k, v in p["support"].items()},
            "outputs": [
                {**o, "amount": _money(o["amount"]), "status_text": t(f"calculator.status.{o['status']}", lang)}
                for o in p["outputs"]
            ],
        }
        for p in e["projects"]
    ]
    total = sum(v for p in e["projects"] for v in p["support"].values())
    return {"class": e["class"], "class_lines": e["class_lines"], "projects": projects, "total": _money(total)}


def firm_explanation(c: sim.Comparison, method: Method, credit_code: str, lang: str = "zh") -> dict[str, Any]:
    """One firm, baseline against reform: its class with how it came about on each side, each project's amounts by
    clause with the rule's explanation (the values that side used), and the changes of the reform that reach it — the
    evaluation's when its class moves, a clause's when that clause's amount moves.

    Raises:
        NotFound: the firm is neither in the data year nor in the projects.
    """
    policy, variables = loader.policy(), loader.variables()
    b = sim.explain_firm(c.snapshot, c.baseline, policy, variables, credit_code, lang)
    r = sim.explain_firm(c.snapshot, c.reform, policy, variables, credit_code, lang)
    if not b["in_data"] and not b["projects"] and b["class"] is None:
        raise NotFound(
            credit_code,
            f"{c.snapshot.year} 年度数据和项目中都没有统一社会信用代码为 {credit_code} 的企业。",
            f"No firm with the credit code {credit_code} in the {c.snapshot.year} data or the projects.",
        )
    baseline, reform = _explained_side(b, lang), _explained_side(r, lang)

    def clause_total(side: dict[str, Any], clause: str) -> int:
        return sum(p["support"].get(clause, 0) for p in side["projects"])

    moved_clauses = {k for k in sim.CLAUSE_OF_RULE.values() if clause_total(b, k) != clause_total(r, k)}
    reaching = []
    for ch in changes_detail(c, method):
        evaluation = str(ch["path"]).startswith(sim.EVALUATION_NAMESPACES)
        if (evaluation and b["class"] != r["class"]) or (not evaluation and ch["clause"] in moved_clauses):
            reaching.append(ch)
    return {
        "credit_code": credit_code,
        "name": b["name"],
        "year": c.snapshot.year,
        "baseline": baseline,
        "reform": reform,
        "change": _money(sum(clause_total(r, k) - clause_total(b, k) for k in sim.CLAUSE_OF_RULE.values())),
        "changes": reaching,
    }


def firm_lines(doc: dict[str, Any]) -> list[str]:
    """A firm's explanation (:func:`firm_explanation`) as the lines ``tenglong simulate --firm`` prints, 万元."""

    def wan(text: str) -> str:
        return f"{Decimal(text) / 10000:,.2f}"

    lines = [f"企业 / firm {doc['name'] or ''} {doc['credit_code']}（{doc['year']} 年度）".replace("  ", " ")]
    for which, zh in (("baseline", "基准 / baseline"), ("reform", "改革 / reform")):
        side = doc[which]
        lines.append(f"{zh}：类别 {side['class'] or '—'}，扶持合计 {wan(side['total'])} 万元")
        lines.extend(f"    {line}" for line in side["class_lines"])
        for p in side["projects"]:
            lines.append(f"  项目 {p.get('name') or p['id']}")
            for o in p["outputs"]:
                lines.append(f"    第 {o['clause']} 条 {o['label']} {wan(o['amount'])} 万元（{o['status_text']}）")
                lines.extend(f"      {line}" for line in o["because"])
    lines.append(f"变化 / change：{wan(doc['change'])} 万元")
    for ch in doc["changes"] or []:
        lines.append(f"  {ch['zh']}（{ch['clause']}）：{ch['baseline']} → {ch['reform']}；影响 {ch['reaches']}")
    if not doc["changes"]:
        lines.append("  本次改动未影响该企业 / no change of this reform reaches this firm")
    return lines


def to_json(c: sim.Comparison, method: Method, labels: Labels | None = None) -> dict[str, Any]:
    """The comparison in the documented shape (``tenglong simulate --out result.json``); ``labels`` are the
    snapshot's (computed when not given)."""
    labels = labels or labels_of(c.snapshot)
    totals = {w: c.totals(w) for w in ("baseline", "reform")}
    return {
        "year": c.snapshot.year,
        "reform": {"title": method.title or "", "changes": changes_to_json(method.changes) or {}},
        "classes": {"above_scale": _classes(c, True), "below_scale": _classes(c, False)},
        "support": {
            "baseline": {k: _money(v) for k, v in totals["baseline"].items()},
            "reform": {k: _money(v) for k, v in totals["reform"].items()},
            "change": {k: _money(totals["reform"][k] - totals["baseline"][k]) for k in totals["baseline"]},
        },
        "by_town": _side_by(c, labels.town),
        "by_industry": _side_by(c, labels.industry),
        "firms": _firms(c),
        "targets": _targets(c),
        "surcharges": _surcharges(c),
    }


def summary(doc: dict[str, Any], changes: list[dict[str, Any]] | None = None) -> list[str]:
    """The comparison as the lines ``tenglong simulate`` prints (zh / en headers, 万元), with each change's values
    before and after (``changes_detail``) when given."""

    def wan(text: str) -> str:
        return f"{Decimal(text) / 10000:,.2f}"

    lines = [f"{doc['year']} 年度 / data year · 改革 / reform: {doc['reform']['title'] or '—'}"]
    for ch in changes or []:
        lines.append(
            f"  {ch['zh']}（{ch['path']}，{ch['clause']}）：{ch['baseline']} → {ch['reform']}；影响 {ch['reaches']}"
        )
    lines.append("类别 / class        基准 / baseline    改革 / reform")
    for group, zh in (("above_scale", "规上"), ("below_scale", "规下")):
        g = doc["classes"][group]
        lines.append(f"  {zh} " + "  ".join(f"{k}:{g['baseline'][k]}→{g['reform'][k]}" for k in sim.CLASSES))
    lines.append("条款 / clause   基准（万元）/ baseline   改革（万元）/ reform   变化（万元）/ change")
    s = doc["support"]
    for k in s["baseline"]:
        name = "合计 / total" if k == "total" else k
        lines.append(f"  {name:<12} {wan(s['baseline'][k]):>16} {wan(s['reform'][k]):>16} {wan(s['change'][k]):>16}")
    lines.append(f"变化的企业 / firms that change: {len(doc['firms'])}")
    for f in doc["firms"][:10]:
        lines.append(
            f"  {f['credit_code']} {f['town']} {f['class_baseline']}→{f['class_reform']} "
            f"{wan(f['support_baseline'])} → {wan(f['support_reform'])} 万元"
        )
    return lines
