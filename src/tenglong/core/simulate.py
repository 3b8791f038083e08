"""What-if: the county under the baseline and under a reform, side by side (one data year, every firm at once).

A :class:`Snapshot` holds the county as columns: the enterprise-years of the data year (and the consecutive years
before it, for the D streaks and the A.2 two-year flags), and optionally a situation of projects whose enterprises
are matched to the data by credit code. :func:`side` evaluates the years with one parameter set and runs the 2.10
and 2.11 rules on the projects **with the classes that evaluation gives** — so a quota reform moves firms between
classes and their 2.11 rewards follow; an enterprise missing from the data keeps the class its situation gives it.
:func:`compare` lines two sides up: class migrations, support by clause, town and industry, the firms that change,
the A.2 targets and the differential prices. Everything is columnar (numpy); money stays in integer 分.

The baseline side is computed once and reused (``Side`` is immutable); a reform that changes no evaluation
parameter reuses the baseline's evaluation too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from .clauses import Policy
from .engine import explanation, run_rules
from .exact import I64
from .mujun.data import YearData
from .mujun.evaluation import Result, evaluate_years
from .mujun.explain import explain
from .parameters import ParameterSet
from .rules import RULES
from .rules._common import Columns
from .trace import APPLIED
from .variables import Registry

__all__ = [
    "CLASSES",
    "EVALUATION_NAMESPACES",
    "SUPPORT",
    "Comparison",
    "Side",
    "Snapshot",
    "compare",
    "exact_bincount",
    "explain_firm",
    "side",
    "yuan",
    "yuan_texts",
]

CLASSES = ("A", "B", "C", "D")
SUPPORT = {
    "2.10": (("projects", "tech_renovation_subsidy"), ("projects", "key_project_reward_2513")),
    "2.11": (("projects", "vertical_industry_reward"),),
}
"""The money a project is granted, by clause: 2.10 the tier subsidy and the "2513" reward (after stacking), 2.11
the vertical-industry reward — each an output of the rules, in 分."""
EVALUATION_NAMESPACES = ("mujun.", "class_override.", "low_efficiency.", "targets.")
"""Parameters the evaluation reads; a reform touching none of them keeps the baseline's classes."""


class _Classed:
    """The enterprises' columns with ``mujun_class`` (and the computed class) replaced by an evaluation's."""

    def __init__(self, base: Columns, final: np.ndarray, computed: np.ndarray, have: np.ndarray) -> None:
        self.kind, self.n, self.ids, self._base = base.kind, base.n, base.ids, base
        self._own = {"mujun_class": (final, have), "mujun_class_computed": (computed, have)}

    def column(self, name: str, year: int | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        if name in self._own and year in (None, getattr(self._base, "period", year)):
            values, have = self._own[name]
            base_values, base_present = self._base.column(name, year, strict)
            if base_values.dtype.kind not in "UO":
                base_values = np.full(self.n, "", dtype="<U1")
            return np.where(have, values, base_values), have | base_present
        return self._base.column(name, year, strict)

    def get(self, name: str, year: int | None = None) -> np.ndarray:
        return self.column(name, year)[0]

    def present(self, name: str, year: int | None = None) -> np.ndarray:
        return self.column(name, year)[1]

    def days(self, as_of: dt.date) -> np.ndarray:
        return self._base.days(as_of)


@dataclass(frozen=True)
class Snapshot:
    """The county of one data year as columns.

    Attributes:
        year: the data year compared.
        years: the enterprise-years of ``year`` and the consecutive years before it that the data hold.
        frames: the projects' situation as the engine's frames (``enterprises``, ``projects``), or None.
        as_of, period: the situation's date and year (the rules judge by them).
        data_row: for each enterprise of ``frames``, its row in ``years[year]`` (−1: not in the data).
    """

    year: int
    years: Mapping[int, YearData]
    frames: Mapping[str, Columns] | None = None
    as_of: dt.date | None = None
    period: int | None = None
    data_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=I64))

    @property
    def data(self) -> YearData:
        """The enterprise-years of the compared year."""
        return self.years[self.year]

    @property
    def project_enterprise(self) -> np.ndarray:
        """Each project's enterprise (a row of ``frames['enterprises']``)."""
        if self.frames is None:
            return np.zeros(0, dtype=I64)
        return np.asarray(self.frames["projects"].get("enterprise"), dtype=I64)


@dataclass(frozen=True)
class Side:
    """The county under one parameter set: the evaluation of the year and each project's support by clause (分)."""

    params: ParameterSet
    result: Result
    enterprise_class: np.ndarray
    support: Mapping[str, np.ndarray]

    @property
    def classes(self) -> np.ndarray:
        """The final class of each firm of the data year ("" when not evaluated)."""
        return self.result.final


RULE_NAMESPACES = {"tech_renovation": ("tech_renovation.",), "vertical_industry": ("vertical_industry.",)}
"""The parameters each support rule reads (besides ``in_force.*``, which any rule may)."""
READS_CLASSES = frozenset({"vertical_industry"})
"""The support rules that read the enterprise's class (2.11 pays by class; 2.10 does not)."""
CLAUSE_OF_RULE = {"tech_renovation": "2.10", "vertical_industry": "2.11"}


def _stale(rule: str, changes: Mapping[str, Any] | None, classes_moved: bool) -> bool:
    """Whether ``rule`` must run again for a reform of ``changes`` (None: everything runs)."""
    if changes is None:
        return True
    if rule in READS_CLASSES and classes_moved:
        return True
    return any(str(p).startswith(("in_force.", *RULE_NAMESPACES[rule])) for p in changes)


def side(
    snapshot: Snapshot,
    params: ParameterSet,
    policy: Policy,
    baseline: Side | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Side:
    """The county under ``params``.

    With ``baseline`` and the reform's ``changes``, what the changes cannot reach is taken from the baseline: its
    evaluation when no evaluation parameter changes, and each support rule's amounts when neither its parameters
    nor (for 2.11) the classes change — the same numbers, without computing them again.
    """
    if baseline is not None and changes is not None and not touches_evaluation(changes):
        result = baseline.result
    else:
        result = evaluate_years(dict(snapshot.years), params, policy)[snapshot.year]
    if snapshot.frames is None:
        return Side(params, result, np.zeros(0, dtype="<U1"), {c: np.zeros(0, dtype=I64) for c in SUPPORT})
    frames = _classed_frames(snapshot, result)
    enterprise_class = frames["enterprises"].get("mujun_class")
    moved = baseline is None or not np.array_equal(enterprise_class, baseline.enterprise_class)
    day, period = _judged(snapshot)
    support = {}
    for rule in RULES:
        if rule.id not in CLAUSE_OF_RULE:
            continue
        clause = CLAUSE_OF_RULE[rule.id]
        if baseline is not None and not _stale(rule.id, changes if baseline else None, moved):
            support[clause] = baseline.support[clause]
            continue
        ctx = run_rules(frames, params, policy, day, period, [rule])  # one rule a call: no thread pool to pay for
        total = np.zeros(snapshot.frames["projects"].n, dtype=I64)
        for key in SUPPORT[clause]:
            o = ctx.results[key]  # what is granted: the amount where the rule applied (not where it could not say)
            total += np.where(o.status == APPLIED, np.asarray(o.values, dtype=I64), 0)
        support[clause] = total
    return Side(params, result, enterprise_class, support)


def _classed_frames(snapshot: Snapshot, result: Result) -> dict[str, Columns]:
    """The situation's frames with each enterprise classed by ``result`` where the data has it."""
    if snapshot.frames is None:  # pragma: no cover - callers check
        raise ValueError("the snapshot has no projects")
    have = snapshot.data_row >= 0
    rows = np.where(have, snapshot.data_row, 0)
    final = np.where(have, result.final[rows] if result.final.size else "", "")
    computed = np.where(have, result.computed[rows] if result.computed.size else "", "")
    have &= final != ""  # a firm the evaluation did not class keeps what the situation says
    return {**snapshot.frames, "enterprises": _Classed(snapshot.frames["enterprises"], final, computed, have)}


def _judged(snapshot: Snapshot) -> tuple[dt.date, int]:
    """The date and the year the rules judge the situation by."""
    return snapshot.as_of or dt.date(snapshot.year, 12, 31), snapshot.period or snapshot.year


class _Rows:
    """Some rows of a frame — one firm's enterprise rows or projects. The projects' ``enterprise`` reference is
    renumbered to the taken enterprise rows (``renumber``: old row → new row, −1 where not taken)."""

    def __init__(self, base: Columns, rows: np.ndarray, renumber: np.ndarray | None = None) -> None:
        self.kind, self.n, self._base, self._rows = base.kind, len(rows), base, rows
        self.ids = np.asarray(base.ids, dtype=str)[rows].tolist()
        self.period = getattr(base, "period", None)
        self._renumber = renumber

    def column(self, name: str, year: int | None = None, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        values, present = self._base.column(name, year, strict)
        values, present = values[self._rows], present[self._rows]
        if name == "enterprise" and self._renumber is not None:
            values = np.where(values >= 0, self._renumber[np.maximum(values, 0)], -1)
        return values, present

    def get(self, name: str, year: int | None = None) -> np.ndarray:
        return self.column(name, year)[0]

    def present(self, name: str, year: int | None = None) -> np.ndarray:
        return self.column(name, year)[1]

    def days(self, as_of: dt.date) -> np.ndarray:
        return self._base.days(as_of)[self._rows]


def explain_firm(
    snapshot: Snapshot, s: Side, policy: Policy, variables: Registry, credit_code: str, lang: str = "zh"
) -> dict[str, Any]:
    """One firm under one side, with the values that side used: how its class came about (the evaluation's own
    explanation) and, for each of its projects, each amount of 2.10 and 2.11 (named as ``variables`` name it) with
    the rule's explanation.

    The projects are run again on their own (the firm's enterprise rows and projects only) under the side's
    parameters and classes; each rule reads a project and its enterprise, so the amounts are the side's.
    """
    d = snapshot.data
    at = np.flatnonzero(d.credit_code == credit_code)
    row = int(at[0]) if len(at) else -1
    out: dict[str, Any] = {
        "credit_code": credit_code,
        "name": (str(d.name[row]) or None) if row >= 0 else None,
        "in_data": row >= 0,
        "class": (str(s.classes[row]) or None) if row >= 0 else None,
        "class_lines": explain(s.result, row, lang) if row >= 0 else [],
        "projects": [],
    }
    if snapshot.frames is None:
        return out
    base = _classed_frames(snapshot, s.result)
    ents = np.flatnonzero(np.asarray(base["enterprises"].ids, dtype=str) == credit_code)
    if not len(ents):
        return out
    if out["class"] is None:  # not in the data, or not classed by it: the class its situation gives
        out["class"] = str(base["enterprises"].get("mujun_class")[ents[0]]) or None
    pe = snapshot.project_enterprise
    taken = np.flatnonzero(np.isin(pe, ents))
    renumber = np.full(base["enterprises"].n, -1, dtype=I64)
    renumber[ents] = np.arange(len(ents))
    frames = {
        **base,
        "enterprises": _Rows(base["enterprises"], ents),
        "projects": _Rows(base["projects"], taken, renumber),
    }
    day, period = _judged(snapshot)
    ids = frames["projects"].ids
    projects = [{"id": ids[j], "support": {}, "outputs": []} for j in range(len(taken))]
    for rule in RULES:
        if rule.id not in CLAUSE_OF_RULE:
            continue
        clause = CLAUSE_OF_RULE[rule.id]
        ctx = run_rules(frames, s.params, policy, day, period, [rule])
        for j, p in enumerate(projects):
            p["support"][clause] = 0
            for kind, var in SUPPORT[clause]:
                o = ctx.results[(kind, var)]
                amount = int(o.values[j]) if o.status[j] == APPLIED else 0
                p["support"][clause] += amount
                v = variables.get(kind, var)
                label = (v.zh if lang == "zh" else v.en) if v else var
                p["outputs"].append(
                    {"variable": var, "label": label, "amount": amount, **explanation(o, j, ctx, kind, lang)}
                )
    out["projects"] = projects
    return out


def touches_evaluation(changes: Mapping[str, Any]) -> bool:
    """Whether a reform's changes reach the evaluation (else the baseline's classes stand)."""
    return any(str(path).startswith(EVALUATION_NAMESPACES) for path in changes)


@dataclass(frozen=True)
class Comparison:
    """Baseline against reform: per firm of the data year and per project, and the aggregates."""

    snapshot: Snapshot
    baseline: Side
    reform: Side
    firm_support: Mapping[str, np.ndarray]
    extra_support: Mapping[str, np.ndarray]

    def migration(self, above: bool) -> np.ndarray:
        """4×4 counts: row the baseline class, column the reform class (A–D), for 规上 (or 规下) firms classed on
        both sides."""
        d = self.snapshot.data
        b, r = _codes(self.baseline.classes), _codes(self.reform.classes)
        rows = (d.above_scale == above) & (b >= 0) & (r >= 0)
        out = np.zeros((4, 4), dtype=I64)
        np.add.at(out, (b[rows], r[rows]), 1)
        return out

    def counts(self, above: bool, which: str) -> dict[str, int]:
        """Class counts of one side for 规上 (规下) firms."""
        classes = (self.baseline if which == "baseline" else self.reform).classes
        d = self.snapshot.data
        return {c: int(((classes == c) & (d.above_scale == above)).sum()) for c in CLASSES}

    def totals(self, which: str) -> dict[str, int]:
        """Support by clause of one side (分), with ``total``."""
        s = (self.baseline if which == "baseline" else self.reform).support
        out = {c: int(v.sum()) for c, v in s.items()}
        out["total"] = sum(out.values())
        return out

    def by(self, codes: np.ndarray, names: tuple[str, ...], which: str) -> dict[str, int]:
        """Support of one side summed by a label of each project (``codes`` into ``names``: its firm's town,
        industry…) in 分, exactly; labels without support are left out."""
        s = (self.baseline if which == "baseline" else self.reform).support
        total = sum(s.values(), np.zeros(len(codes), dtype=I64))
        sums = exact_bincount(codes, total, len(names))
        return {names[i]: int(v) for i, v in enumerate(sums) if v}

    def changed(self) -> np.ndarray:
        """Rows of the data year whose class or support changes."""
        b, r = self.firm_support["baseline"], self.firm_support["reform"]
        return np.flatnonzero((self.baseline.classes != self.reform.classes) | (b != r))

    def surcharge_amounts(self) -> dict[str, int]:
        """Each side's differential electricity surcharge over the year, Σ rate × kWh, in 分 (half up per firm)."""
        d = self.snapshot.data
        kwh = np.nan_to_num(d["electricity_kwh"]) if "electricity_kwh" in d.values else np.zeros(d.n)
        out = {}
        for which, s in (("baseline", self.baseline), ("reform", self.reform)):
            out[which] = int(np.floor(s.result.surcharge * kwh * 100 + 0.5).astype(I64).sum())
        return out


def exact_bincount(codes: np.ndarray, amounts: np.ndarray, n: int) -> np.ndarray:
    """Integer ``amounts`` summed by ``codes`` (0 … n−1), exactly: a float sum is exact while every partial sum stays
    below 2⁵³, which the absolute total bounds; past it, integer accumulation.

    >>> exact_bincount(np.array([1, 0, 1]), np.array([5, 7, -2]), 3).tolist()
    [7, 3, 0]
    """
    if int(np.abs(amounts).sum()) < 2**53:
        return np.rint(np.bincount(codes, weights=amounts.astype(np.float64), minlength=n)).astype(I64)
    out = np.zeros(n, dtype=I64)  # pragma: no cover - a county's support is far below 2⁵³ 分
    np.add.at(out, codes, amounts)  # pragma: no cover
    return out  # pragma: no cover


def _codes(classes: np.ndarray) -> np.ndarray:
    out = np.full(len(classes), -1, dtype=I64)
    for i, c in enumerate(CLASSES):
        out[classes == c] = i
    return out


def compare(snapshot: Snapshot, baseline: Side, reform: Side) -> Comparison:
    """Line the two sides up: each firm's support (its projects' sum, both clauses) on both sides; firms of the
    situation that are not in the data are summed apart (``extra_support``, by enterprise row)."""
    firm, extra = {}, {}
    n = snapshot.data.n
    pe = snapshot.project_enterprise
    for which, s in (("baseline", baseline), ("reform", reform)):
        per_project = sum(s.support.values(), np.zeros(len(pe), dtype=I64))
        data_row = snapshot.data_row[pe] if len(pe) else np.zeros(0, dtype=I64)
        inside = data_row >= 0
        firm[which] = exact_bincount(data_row[inside], per_project[inside], n)
        extra[which] = exact_bincount(pe[~inside], per_project[~inside], len(snapshot.data_row))
    return Comparison(snapshot, baseline, reform, firm, extra)


def yuan_texts(fen: np.ndarray) -> np.ndarray:
    """分 as 元 texts with two decimals, for a whole column.

    >>> yuan_texts(np.array([123456, -5, 0])).tolist()
    ['1234.56', '-0.05', '0.00']
    """
    if not len(fen):
        return np.zeros(0, dtype="<U1")
    a = np.abs(fen)
    whole = np.char.add(np.where(fen < 0, "-", ""), (a // 100).astype(str))
    return np.char.add(np.char.add(whole, "."), np.char.zfill((a % 100).astype(str), 2))


def yuan(fen: int) -> str:
    """分 as 元 text with two decimals (the JSON's money).

    >>> yuan(123456), yuan(-5)
    ('1234.56', '-0.05')
    """
    return str((Decimal(int(fen)) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))
