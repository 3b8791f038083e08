"""Why a firm's class changed between two published years: a veto, a 2.8 override, a change of group, or the
ranking — its own score against the quota edges of its group.

Every value stated is one the two runs stored: the scores, ranks and classes of
``evaluation_results``, the quota counts of each run's summary (``quota_counts``),
and, for vetoes and overrides, the line ``core.mujun.explain`` wrote into the
firm's explanation. The quota edge of a class is the score of the last firm
inside it (rank = the cumulative quota count), as ``core.mujun.evaluation._edges``
computes it.

How the ranking part is judged (docs/readings.md, readings of the evaluation pages, 1): when both years
ranked the firm in the same group (规上 or 规下) and its computed class changed,
its later score is held against the earlier year's edges, and its earlier score
against the later year's. If the later score alone takes the firm at least as far
as its new class (up to its edge, or down below the edge of the class above it),
the score changed the class; else, if the earlier score does so against the later
edges, the edge moved; else both did. A score equal to an edge counts as inside
the better class (the firm at the edge is), ties being broken by tax per mu and
credit code in the ranking itself.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ...adapters.db.tables import evaluation_results
from ...core.mujun.explain import OVERRIDE

CLASSES = ("A", "B", "C", "D")
BOUNDARIES = (("A", "A/B"), ("B", "B/C"), ("C", "C/D"))
"""The edge of each class but D, and the boundary it draws."""
VETO_PREFIX = ("一票否决：", "veto: ")
"""How ``core.mujun.explain`` begins the veto line (zh, en)."""
OVERRIDE_PREFIX = tuple(tuple(text.split("{", 1)[0] for text in OVERRIDE[code]) for code in sorted(OVERRIDE))
"""How ``core.mujun.explain`` begins the 2.8 override lines (zh, en), one pair per override."""
_R = evaluation_results.c


def quota_edges(conn: Connection, run_id: int, summary: dict[str, Any] | None) -> dict[str, dict[str, float | None]]:
    """The quota edge scores of each ranking group of a run: group → class (A, B, C) → score.

    ``None`` when the class has no place (a quota of 0 firms): no score reaches it.
    """
    quota = (summary or {}).get("quota_counts") or {}
    cuts: dict[tuple[str, int], str] = {}
    for group, counts in quota.items():
        total = 0
        for k, _ in BOUNDARIES:
            total += int(counts.get(k, 0))
            if total > 0:
                cuts.setdefault((group, total), k)
    out: dict[str, dict[str, float | None]] = {g: dict.fromkeys(("A", "B", "C")) for g in quota}
    if not cuts:
        return out
    rows = conn.execute(
        select(_R.group_name, _R.rank, _R.mujun_score).where(
            _R.run_id == run_id, or_(*(and_(_R.group_name == g, _R.rank == n) for g, n in cuts))
        )
    )
    by_cut = {(r.group_name, int(r.rank)): r.mujun_score for r in rows}
    for group, counts in quota.items():
        total = 0
        for k, _ in BOUNDARIES:
            total += int(counts.get(k, 0))
            out[group][k] = by_cut.get((group, total)) if total > 0 else None
    return out


def reaches(score: float | None, edges: dict[str, float | None], klass: str, better: bool) -> bool:
    """Whether ``score``, against a group's ``edges``, takes a firm at least as far as ``klass``: up to it
    (``better``: the score reaches the edge of ``klass``) or down to it (below the edge of the class above it).

    >>> edges = {"A": 120.0, "B": 78.5, "C": 57.4}
    >>> reaches(80.0, edges, "B", True), reaches(130.0, edges, "B", True), reaches(70.0, edges, "B", True)
    (True, True, False)
    >>> reaches(70.0, edges, "C", False), reaches(50.0, edges, "C", False), reaches(80.0, edges, "C", False)
    (True, True, False)
    """
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return False
    if better:
        edge = edges.get(klass)
        return edge is not None and score >= edge
    edge = edges.get(CLASSES[CLASSES.index(klass) - 1])
    return edge is None or score < edge


def _line(text: str | None, prefixes: tuple[str, ...]) -> str | None:
    return next((ln for ln in (text or "").splitlines() if ln.startswith(prefixes)), None)


def _rule_line(r: dict[str, Any], side: str, prefix: tuple[tuple[str, str], ...]) -> dict[str, str | None]:
    zh = tuple(p[0] for p in prefix)
    en = tuple(p[1] for p in prefix)
    return {
        "line_zh": _line(r.get(f"explanation_zh_{side}"), zh),
        "line_en": _line(r.get(f"explanation_en_{side}"), en),
    }


def reasons(
    r: dict[str, Any],
    years: tuple[int, int],
    edges_before: dict[str, dict[str, float | None]],
    edges_after: dict[str, dict[str, float | None]],
) -> list[dict[str, Any]]:
    """Why the firm of compare row ``r`` changed class between ``years`` (earlier, later), most decisive first.

    Each reason is a dict with a ``code`` and the values it states:

    * ``group``: 规上 in one year, 规下 in the other (``before``, ``after``): the scores are not comparable;
    * ``veto`` / ``override``: the year (``year``) whose class a veto or a 2.8 override set, with the line of its
      explanation (``line_zh``, ``line_en``);
    * ``rank``: the one year (``year``) that ranked the firm (the other set its class by a veto or 2.8): its
      ``rank`` of ``size`` and the class the ranking gave (``computed``);
    * ``ranking``: the scores, ranks and group sizes of both years, the edges of every boundary between the two
      classes (``edges``: boundary, before, after) and the ``verdict`` (``score``, ``edge`` or ``both``) when the
      computed class changed.
    """
    a, b = years
    out: list[dict[str, Any]] = []
    if r["above_scale_before"] != r["above_scale_after"]:
        out.append(
            {
                "code": "group",
                "before": "above_scale" if r["above_scale_before"] else "below_scale",
                "after": "above_scale" if r["above_scale_after"] else "below_scale",
            }
        )
    for side, year in (("after", b), ("before", a)):
        if r[f"vetoed_{side}"]:
            out.append({"code": "veto", "year": year, **_rule_line(r, side, (VETO_PREFIX,))})
        elif r[f"override_{side}"] not in (None, "none"):
            out.append({"code": "override", "year": year, **_rule_line(r, side, OVERRIDE_PREFIX)})
    ranked = r["rank_before"] and r["rank_after"]
    if not ranked:
        for side, year in (("before", a), ("after", b)):
            if r[f"rank_{side}"]:
                out.append(
                    {
                        "code": "rank",
                        "year": year,
                        "rank": r[f"rank_{side}"],
                        "size": r[f"size_{side}"],
                        "computed": r[f"computed_{side}"],
                    }
                )
        return out
    computed_a, computed_b = r["computed_before"], r["computed_after"]
    low, high = sorted((CLASSES.index(computed_a), CLASSES.index(computed_b)))
    eb = edges_before.get(r["group_before"], {})
    ea = edges_after.get(r["group_after"], {})
    crossed = [
        {"boundary": name, "before": eb.get(k), "after": ea.get(k)}
        for i, (k, name) in enumerate(BOUNDARIES)
        if low <= i < high
    ]
    verdict = None
    if computed_a != computed_b and r["above_scale_before"] == r["above_scale_after"]:
        better = CLASSES.index(computed_b) < CLASSES.index(computed_a)
        if reaches(r["score_after"], eb, computed_b, better):
            verdict = "score"
        elif reaches(r["score_before"], ea, computed_b, better):
            verdict = "edge"
        else:
            verdict = "both"
    out.append(
        {
            "code": "ranking",
            "score_before": r["score_before"],
            "score_after": r["score_after"],
            "rank_before": r["rank_before"],
            "size_before": r["size_before"],
            "rank_after": r["rank_after"],
            "size_after": r["size_after"],
            "computed_before": computed_a,
            "computed_after": computed_b,
            "edges": crossed,
            "verdict": verdict,
        }
    )
    return out


__all__ = ["quota_edges", "reaches", "reasons"]
