"""How one firm's class came about, line by line, each number citing its source."""

from __future__ import annotations

import numpy as np

from . import indicators as ind
from .carbon import LEVEL_ZH, LEVELS
from .evaluation import ABOVE, OVERRIDES, Result
from .evaluation import REASONS as REASON_CODES

REASONS = {
    "below_min_land": (
        "规下企业实际用地不足 {min} 亩，不参评（来源：浙政发〔2021〕31号等，参数 mujun.below_scale_min_land_mu）",
        "below-scale firm with less than {min} mu: not evaluated (mujun.below_scale_min_land_mu)",
    ),
    "no_land": ("无用地面积，不参评", "no land area: not evaluated"),
}
VETO = {
    "fatal_safety_accident": ("发生亡人或较大及以上安全事故", "fatal or major safety accident"),
    "serious_environmental_violation": ("严重环境违法", "serious environmental violation"),
    "falsified_data": ("数据造假", "falsified data"),
}
OVERRIDE = {
    "force_A": (
        "依临政发〔2022〕22号第（八）项：建设期内本年完成固定资产投资额（不含建设用地费）1亿元以上，列入A类（不占A类比例）",
        "clause 2.8: fixed-asset investment of at least 100 million yuan in the construction period → class A, outside the A quota",
    ),
    "not_D": (
        "依临政发〔2022〕22号第（八）项：建设期内本年完成固定资产投资额（不含建设用地费）3000万元以上，不列入D类，由 D 调为 C",
        "clause 2.8: fixed-asset investment of at least 30 million yuan in the construction period → not class D; D becomes C",
    ),
}


def group_label(group: str, lang: str = "zh") -> str:
    """Readable name of a ranking group, e.g. ``above_scale:metals`` → ``规上·metals``."""
    base, _, sub = group.partition(":")
    name = {"above_scale": ("规上", "above-scale"), "below_scale": ("规下", "below-scale")}.get(base, (base, base))[
        0 if lang == "zh" else 1
    ]
    return f"{name}·{sub}" if sub else name


def _num(x: float, digits: int = 4) -> str:
    return "—" if not np.isfinite(x) else f"{x:,.{digits}f}"


def explain(r: Result, i: int, lang: str = "zh") -> list[str]:
    """The explanation of row ``i`` in zh or en."""
    zh = lang == "zh"
    m = r.method
    d = r.data
    lines: list[str] = []
    above = bool(d.above_scale[i])
    kind = ("规上企业", "above-scale firm") if above else ("规下企业", "below-scale firm")
    lines.append(
        f"{r.year} 年度数据，{kind[0]}，用地 {_num(d['land_area_mu'][i])} 亩"
        if zh
        else f"data year {r.year}, {kind[1]}, land {_num(d['land_area_mu'][i])} mu"
    )
    if not r.evaluated[i]:
        zh_t, en_t = REASONS.get(REASON_CODES[int(r.reason_code[i])], ("不参评", "not evaluated"))
        lines.append((zh_t if zh else en_t).format(min=m.below_min_land_mu4 / 10_000))
        return lines
    group = ABOVE if above else "below_scale"
    bench = r.benchmarks[group]
    source = (
        (
            "基准值为当年全县参评企业合计之比（参数 mujun.benchmark_mode = aggregate，假设）"
            if m.benchmark_mode == "aggregate"
            else "基准值为公布常数（参数 mujun.benchmark_constants）"
        )
        if zh
        else (
            "benchmarks are this year's county aggregates of the evaluated firms (mujun.benchmark_mode = aggregate, assumption)"
            if m.benchmark_mode == "aggregate"
            else "benchmarks are published constants (mujun.benchmark_constants)"
        )
    )
    lines.append(source)
    weights = m.weights_above if above else m.weights_below
    for k, w in weights.items():
        name_zh, name_en = ind.LABELS[k]
        x, b, s = r.indicators[k][i], bench.get(k, float("nan")), r.scores[k][i]
        if r.imputed[k][i]:
            lines.append(
                f"{name_zh}：无数据，按规上企业此项平均得分赋 {_num(s, 3)} 分（黄岩区口径）"
                if zh
                else f"{name_en}: no data; given the mean above-scale item score {_num(s, 3)}"
            )
            continue
        unit = ind.UNITS[k] if zh else (ind.UNITS_EN[ind.UNITS[k]] if ind.UNITS[k] else "")
        lines.append(
            f"{name_zh} {_num(x)} {unit} ÷ 基准 {_num(b)} × 权重 {w:g} = {_num(s, 3)} 分"
            if zh
            else f"{name_en} {_num(x)} {unit} ÷ benchmark {_num(b)} × weight {w:g} = {_num(s, 3)}"
        )
    lines.append(
        f"综合得分 {_num(r.score[i], m.score_decimals)}（保留 {m.score_decimals} 位小数，参数 mujun.score_decimals）"
        if zh
        else f"total score {_num(r.score[i], m.score_decimals)} ({m.score_decimals} decimals, mujun.score_decimals)"
    )
    g = r.group_names[int(r.group_id[i])]
    if r.rank[i] > 0:
        c = r.counts[g]
        e = r.edges[g]
        quotas = m.quotas_above if above else m.quotas_below
        share = ("、" if zh else ", ").join(f"{k} {float(v):.0%}" for k, v in quotas.items())
        if zh:
            lines.append(
                f"{group_label(g)}企业参与排名 {r.group_size[i]} 家，本企业第 {r.rank[i]} 名（同分按亩均税收、统一社会信用代码排序）"
            )
            lines.append(
                f"比例 {share}（温岭预设，假设参数 mujun.quotas_*）：A 类 {c['A']} 家、B 类 {c['B']} 家、C 类 {c['C']} 家、D 类 {c['D']} 家；A/B、B/C、C/D 分界得分 {_num(e['A'], 3)}、{_num(e['B'], 3)}、{_num(e['C'], 3)}"
            )
            lines.append(f"按排名计算的类别：{r.computed[i]}")
        else:
            lines.append(
                f"{group_label(g, 'en')} ranking: {r.group_size[i]} firms, this firm ranks {r.rank[i]} (ties: tax per mu, then credit code)"
            )
            lines.append(
                f"quotas {share} (Wenling preset, assumption mujun.quotas_*): A {c['A']}, B {c['B']}, C {c['C']}, D {c['D']}; edge scores {_num(e['A'], 3)}, {_num(e['B'], 3)}, {_num(e['C'], 3)}"
            )
            lines.append(f"class from the ranking: {r.computed[i]}")
    if r.vetoed[i]:
        v_zh, v_en = VETO.get(str(d.veto[i]), (str(d.veto[i]), str(d.veto[i])))
        lines.append(
            f"一票否决：{v_zh} → {r.final[i]} 类，不参与排名、不占比例（假设参数 mujun.vetoes）"
            if zh
            else f"veto: {v_en} → class {r.final[i]}, outside the ranking and quotas (assumption mujun.vetoes)"
        )
    code = OVERRIDES[int(r.override_code[i])]
    if code in OVERRIDE:
        lines.append(OVERRIDE[code][0 if zh else 1])
    lines.append(f"最终类别：{r.final[i]}" if zh else f"final class: {r.final[i]}")
    lines.append(
        f"城镇土地使用税减免 {r.relief[i]:.0%}（浙政办发〔2019〕62号）；差别电价加价 {r.surcharge[i]:.2f} 元/千瓦时（连续 D 类 {r.d_streak[i]} 年）"
        if zh
        else f"land-use tax relief {r.relief[i]:.0%} (浙政办发〔2019〕62号); electricity surcharge {r.surcharge[i]:.2f} yuan/kWh ({r.d_streak[i]} year(s) in D running)"
    )
    if r.carbon_grade[i] > 0:
        level = LEVELS[int(r.carbon_level[i])]
        lines.append(
            f"碳效码：单位增加值碳排放 {_num(r.carbon_intensity[i])} 吨/万元（{LEVEL_ZH[level]}），碳效值 {_num(r.carbon_value[i])}，{r.carbon_grade[i]} 级"
            if zh
            else f"carbon code: intensity {_num(r.carbon_intensity[i])} t/10k yuan ({level}), efficiency value {_num(r.carbon_value[i])}, grade {r.carbon_grade[i]}"
        )
    flags = [
        (r.low_efficiency[i], "亩均税收连续两年5万元（含）以下的低效企业（附件二）", "low-efficiency firm (A.2)"),
        (
            r.billion_low_tax[i],
            "亩均税收连续两年10万元（含）以下的亿元企业（附件二）",
            "100-million-yuan firm with low tax per mu (A.2)",
        ),
        (
            r.candidate[i],
            "高耗低效企业候选（假设参数 mujun.hcle_*）",
            "high-consumption low-efficiency candidate (assumption mujun.hcle_*)",
        ),
    ]
    for on, t_zh, t_en in flags:
        if on:
            lines.append(t_zh if zh else t_en)
    return lines
