"""Charts drawn on the server as SVG (matplotlib, Agg-free SVG backend), for the PDF documents.

Every chart names its unit on its axis; Chinese labels use the CJK fonts the PDF embeds (Noto Sans CJK SC, or
WenQuanYi Micro Hei), registered from their files when matplotlib's font cache does not know them yet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("svg")  # no display, no raster backend: the charts are vector SVG

from matplotlib import font_manager
from matplotlib import pyplot as plt

__all__ = ["bar_chart", "ranking_chart"]

FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
FAMILIES = ["Noto Sans CJK SC", "WenQuanYi Micro Hei", "DejaVu Sans"]
COLOURS = ("#2f5b9e", "#e08a2e", "#3f8f4f", "#b3261e")


@cache
def _fonts() -> None:
    """Register the CJK fonts with matplotlib once (its cached font list may predate their installation)."""
    for path in FONT_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
    matplotlib.rcParams["font.sans-serif"] = FAMILIES
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: the PDF embeds the font, pdftotext reads it


def bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    unit: str,
    *,
    width: float = 7.0,
    height: float = 2.8,
) -> str:
    """A grouped bar chart as an SVG document: ``series`` is (name, one value per category); ``unit`` labels the
    value axis."""
    _fonts()
    fig, ax = plt.subplots(figsize=(width, height))
    try:
        n = max(len(series), 1)
        step = 0.8 / n
        for i, (name, values) in enumerate(series):
            xs = [x - 0.4 + step * (i + 0.5) for x in range(len(categories))]
            ax.bar(xs, list(values), width=step * 0.95, label=name, color=COLOURS[i % len(COLOURS)])
        ax.set_xticks(range(len(categories)), list(categories), fontsize=8)
        ax.set_ylabel(unit, fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        if len(series) > 1:  # below the axis, clear of the bars
            ax.legend(
                fontsize=8, frameon=False, ncols=min(len(series), 4), loc="upper center", bbox_to_anchor=(0.5, -0.12)
            )
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg")
        text = out.getvalue()
        return text[text.index("<svg") :]  # the element only, to inline in the HTML
    finally:
        plt.close(fig)


def ranking_chart(categories: Sequence[str], values: Sequence[float], unit: str, *, width: float = 7.0) -> str:
    """A horizontal bar chart as an SVG document, one bar per category from the top down (a ranking: the first
    category on top), each bar labelled with its value; ``unit`` labels the value axis. Long names (the towns and
    zones) read along the category axis without turning."""
    _fonts()
    n = max(len(categories), 1)
    fig, ax = plt.subplots(figsize=(width, 0.6 + 0.18 * n))
    try:
        ys = list(range(len(categories)))
        bars = ax.barh(ys, list(values), height=0.7, color=COLOURS[0])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=2, fontsize=7)
        ax.set_yticks(ys, list(categories), fontsize=8)
        ax.invert_yaxis()  # the first on top
        ax.set_xlabel(unit, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlim(0, max([*values, 1.0]) * 1.12)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg")
        text = out.getvalue()
        return text[text.index("<svg") :]
    finally:
        plt.close(fig)
