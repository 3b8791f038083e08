"""Ranks and class quotas inside each ranking group.

Counts per group: A, C and D are ``round_half_up(N × share)`` and B is the rest
(Wenling preset; assumption). Ties: higher score, then higher tax per mu, then
the credit code in ascending order — so a ranking never depends on row order.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

CLASSES = ("A", "B", "C", "D")


def quota_counts(n: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """Class counts for a group of ``n`` ranked firms.

    >>> q = {"A": Fraction(1, 5), "B": Fraction(3, 5), "C": Fraction(3, 20), "D": Fraction(1, 20)}
    >>> [quota_counts(n, q) for n in (1, 7, 20, 21)]  # doctest: +NORMALIZE_WHITESPACE
    [{'A': 0, 'B': 1, 'C': 0, 'D': 0}, {'A': 1, 'B': 5, 'C': 1, 'D': 0},
     {'A': 4, 'B': 12, 'C': 3, 'D': 1}, {'A': 4, 'B': 13, 'C': 3, 'D': 1}]
    """
    half_up = {
        c: (2 * n * shares[c].numerator + shares[c].denominator) // (2 * shares[c].denominator) for c in ("A", "C", "D")
    }
    b = n - sum(half_up.values())
    if b < 0:  # tiny groups with large A/C/D shares: give back from C, then A
        for c in ("C", "A", "D"):
            take = min(-b, half_up[c])
            half_up[c] -= take
            b += take
    return {"A": half_up["A"], "B": b, "C": half_up["C"], "D": half_up["D"]}


def _packed_order(group: np.ndarray, score: np.ndarray, tax_per_mu: np.ndarray, decimals: int) -> np.ndarray | None:
    """One int64 sort key (group, score desc, tax-per-mu rank desc), or None when it would not fit.

    Scores are already rounded to ``decimals``, so ``score × 10^decimals`` is an
    exact integer; tax per mu enters by its rank. One integer argsort is several
    times faster than a three-key lexsort on a million rows.
    """
    n = len(score)
    if n == 0 or decimals > 6:
        return np.arange(n)
    units = np.rint(score * 10.0**decimals)
    # 8 bits of group, 26 of score units (scores below 67,108 at 3 decimals), 29 of rank.
    if (
        not np.isfinite(units).all()
        or units.min() < 0
        or units.max() >= 2**26
        or group.max(initial=0) >= 2**8
        or n >= 2**29
    ):
        return None
    t = np.nan_to_num(tax_per_mu, nan=-np.inf)
    t_rank = np.empty(n, dtype=np.int64)
    t_order = np.argsort(t, kind="stable")
    t_rank[t_order] = np.arange(n)
    # equal tax per mu must share a rank, or the code tie-break would be skipped
    same = np.r_[False, t[t_order][1:] == t[t_order][:-1]]
    t_rank[t_order] = np.maximum.accumulate(np.where(same, 0, np.arange(n)))
    key = (
        (group.astype(np.int64) << 55)
        | ((np.int64(2**26 - 1) - units.astype(np.int64)) << 29)
        | (np.int64(2**29 - 1) - t_rank)
    )
    return np.argsort(key)  # equal keys are exact ties, settled by credit code afterwards


def order_within_groups(
    group: np.ndarray, score: np.ndarray, tax_per_mu: np.ndarray, codes: np.ndarray, decimals: int = 3
) -> np.ndarray:
    """Row order: by group, score (desc), tax per mu (desc), credit code (asc)."""
    order = _packed_order(group, score, tax_per_mu, decimals)
    if order is None:
        key = group.astype(np.float64) * 1e9 - score
        order = np.lexsort((-np.nan_to_num(tax_per_mu, nan=-np.inf), key))
    g, s, t = group[order], score[order], tax_per_mu[order]
    tie = np.zeros(len(order), dtype=bool)
    tie[1:] = (g[1:] == g[:-1]) & (s[1:] == s[:-1]) & (t[1:] == t[:-1])
    tie[:-1] |= tie[1:]
    if tie.any():
        # Only exact ties need the string comparison of credit codes.
        sub = np.flatnonzero(tie)
        order[sub] = order[sub][np.lexsort((codes[order[sub]], -score[order[sub]], group[order[sub]]))]
    return order


def classify(
    group: np.ndarray,
    ranked: np.ndarray,
    score: np.ndarray,
    tax_per_mu: np.ndarray,
    codes: np.ndarray,
    shares_of_group: dict[int, dict[str, Fraction]],
    decimals: int = 3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, dict[str, int]]]:
    """Rank the ``ranked`` rows inside their group and give each its class.

    Returns:
        (rank 1..N or 0, group size N or 0, class "A".."D" or "", counts per group).
    """
    n = len(group)
    rank = np.zeros(n, dtype=np.int64)
    size = np.zeros(n, dtype=np.int64)
    cls = np.full(n, "", dtype="<U1")
    rows = np.flatnonzero(ranked)
    counts: dict[int, dict[str, int]] = {}
    if not len(rows):
        return rank, size, cls, counts
    local = order_within_groups(group[rows], score[rows], tax_per_mu[rows], codes[rows], decimals)
    ordered = rows[local]
    g = group[ordered]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    position = np.arange(len(g)) - np.repeat(starts, ends - starts) + 1
    rank[ordered] = position
    size[ordered] = np.repeat(ends - starts, ends - starts)
    edge_a, edge_b, edge_c = (np.zeros(len(g), dtype=np.int64) for _ in range(3))
    for s, e in zip(starts, ends, strict=True):
        gid = int(g[s])
        c = quota_counts(int(e - s), shares_of_group[gid])
        counts[gid] = c
        edge_a[s:e], edge_b[s:e], edge_c[s:e] = c["A"], c["A"] + c["B"], c["A"] + c["B"] + c["C"]
    cls[ordered] = np.where(
        position <= edge_a, "A", np.where(position <= edge_b, "B", np.where(position <= edge_c, "C", "D"))
    )
    return rank, size, cls, counts
