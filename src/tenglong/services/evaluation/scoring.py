"""How a 亩均 score is made, for the pages that explain it: the weights a run used, and why a score exceeds 100.

The score is Σ weight × indicator ÷ benchmark over the indicators of the firm's
group (``core.mujun.evaluation._item_scores``; parameters ``mujun.weights_above_scale``
and ``mujun.weights_below_scale``, the linear ratio-to-benchmark formula of 黄岩区's
published 工业企业综合评价得分计算说明). The weights add up to 100, so a firm exactly at
every benchmark scores 100; no item score is capped (the method publishes no cap), so
a firm above a benchmark earns more than that item's weight and the total can exceed 100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ...core import loader, reforms
from . import methods


def weights_of(method_changes: Any, year: int) -> dict[str, dict[str, float]]:
    """The indicator weights (``above_scale`` / ``below_scale``) a run of ``year`` used, from its stored method.

    Read as ``core.mujun.method.Method`` reads them: on the last day of the data year.
    """
    params = (
        reforms.apply(methods.changes_from_json(method_changes), loader.parameters())
        if method_changes
        else loader.parameters()
    )
    day = dt.date(year, 12, 31)
    out = {}
    for group, path in (("above_scale", "mujun.weights_above_scale"), ("below_scale", "mujun.weights_below_scale")):
        p = params[path]
        value = p.at(day)
        out[group] = {k: float(v) for k, v in (p.last_value() if value is None else value).items()}
    return out


@dataclass(frozen=True)
class OverHundred:
    """Why a score exceeds 100: each item scores weight × value ÷ benchmark, uncapped; the items above their weight.

    ``param`` is the weights' parameter, ``total_weight`` the sum of the weights (100: every indicator exactly
    at its benchmark), ``items`` the indicators above their benchmark: key, value, benchmark, weight, ratio,
    score (``value`` None for an item without data given the mean 规上 score).
    """

    score: float
    param: str
    total_weight: float
    items: list[dict[str, Any]]


WEIGHTS_PARAM = {True: "mujun.weights_above_scale", False: "mujun.weights_below_scale"}


def over_100(res: dict[str, Any], bench: dict[str, Any], weights: dict[str, float]) -> OverHundred | None:
    """Why a stored score exceeds 100, from the stored result, the run's benchmarks of the firm's group and the
    weights the run used (``weights_of``); None when the score is at most 100.
    """
    score = res.get("mujun_score")
    if score is None or score <= 100:
        return None
    items = []
    for k, w in weights.items():
        s, v, b = (res.get("scores") or {}).get(k), (res.get("indicators") or {}).get(k), bench.get(k)
        if s is None or s <= w:
            continue
        ratio = v / b if v is not None and b else None
        items.append({"key": k, "value": v, "benchmark": b, "weight": w, "ratio": ratio, "score": s})
    items.sort(key=lambda i: i["score"] - i["weight"], reverse=True)
    return OverHundred(float(score), WEIGHTS_PARAM[bool(res["above_scale"])], sum(weights.values()), items)


__all__ = ["OverHundred", "over_100", "weights_of"]
