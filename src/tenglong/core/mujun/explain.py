"""How one firm's class came about, line by line, each number citing its source.

Every number stated is one the evaluation used: the method of the run (``r.method``,
read from the parameters it was given) or the firm's own figures; the clause 2.8 and
A.2 thresholds come from ``Result.thresholds``, the values the year was judged by.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np

from ..boundary import boundary
from ..trace import fmt_number, fmt_percent
from . import indicators as ind
from .carbon import LEVEL_ZH, LEVELS
from .evaluation import ABOVE, OVERRIDES, Result
from .evaluation import REASONS as REASON_CODES

REASONS = {
    "below_min_land": (
        "规下企业实际用地不足 {min} 亩，不参评（参数 mujun.below_scale_min_land_mu，预设依据浙政发〔2021〕31号等）",
        "below-scale firm with less than {min} mu: not evaluated (mujun.below_scale_min_land_mu)",
    ),
    "no_land": ("无用地面积，不参评", "no land area: not evaluated"),
}
VETO = {
    "fatal_safety_accident": ("发生亡人或较大及以上安全事故", "fatal or major safety accident"),
    "serious_environmental_violation": ("严重环境违法", "serious environmental violation"),
    "falsified_data": ("数据造假", "falsified data"),
}
# {fai}: the firm's fixed-asset investment; {limit} and {term}: the threshold the run used and its boundary word.
OVERRIDE = {
    "force_A": (
        "依临政发〔2022〕22号第（八）项：建设期内本年完成固定资产投资额（不含建设用地费）{fai} 元，"
        "达到 {limit} 元{term_zh}（参数 class_override.force_a_min_investment），列入A类（不占A类比例）",
        "clause 2.8: fixed-asset investment of {fai} yuan in the construction period reaches {limit} yuan "
        "({term_en}; class_override.force_a_min_investment) → class A, outside the A quota",
    ),
    "not_D": (
        "依临政发〔2022〕22号第（八）项：建设期内本年完成固定资产投资额（不含建设用地费）{fai} 元，"
        "达到 {limit} 元{term_zh}（参数 class_override.not_d_min_investment），不列入D类，由 D 调为 C",
        "clause 2.8: fixed-asset investment of {fai} yuan in the construction period reaches {limit} yuan "
        "({term_en}; class_override.not_d_min_investment) → not class D; D becomes C",
    ),
}
LIMIT = {"force_A": "class_override.force_a_min_investment", "not_D": "class_override.not_d_min_investment"}


def _threshold(r: Result, path: str) -> tuple[str, str, str]:
    """(value, zh boundary, en boundary) of a 2.8 / A.2 threshold as the run used it."""
    value, term = r.thresholds.get(path, (None, None))
    shown = "—" if value is None else _trim(Decimal(str(value)))
    if term is None:
        return shown, "", ""
    b = boundary(term)
    return shown, f"{b.term}", b.en


def group_label(group: str, lang: str = "zh") -> str:
    """Readable name of a ranking group, e.g. ``above_scale:metals`` → ``规上·metals``."""
    base, _, sub = group.partition(":")
    name = {"above_scale": ("规上", "above-scale"), "below_scale": ("规下", "below-scale")}.get(base, (base, base))[
        0 if lang == "zh" else 1
    ]
    return f"{name}·{sub}" if sub else name


def _num(x: float, digits: int = 4) -> str:
    return "—" if not np.isfinite(x) else f"{x:,.{digits}f}"


def _pct(x: Decimal | Fraction | float) -> str:
    """A share of the method as an exact percentage (floats were read from decimals)."""
    f = x if isinstance(x, Fraction) else Fraction(Decimal(repr(x) if isinstance(x, float) else x))
    return fmt_percent(f.numerator, f.denominator)


def _trim(x: Decimal) -> str:
    """A threshold as written, with thousands separators: ``100,000,000``, ``5``, ``9.5``."""
    return f"{int(x):,}" if x == x.to_integral_value() else f"{x.normalize():f}"


def _dec(x: float) -> str:
    """A method number as written, e.g. ``0.6`` or ``2.0``."""
    return repr(float(x))


def _yuan_rate(x: Decimal) -> str:
    """元/千瓦时 with at least two decimals, never rounded: ``0.30``, ``0.305``."""
    q = x.quantize(Decimal("0.01"))
    return f"{q if q == x else x:f}"


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
    min_land = fmt_number(m.below_min_land_mu4, 4)
    if not r.evaluated[i]:
        zh_t, en_t = REASONS.get(REASON_CODES[int(r.reason_code[i])], ("不参评", "not evaluated"))
        lines.append((zh_t if zh else en_t).format(min=min_land))
        return lines
    if not above:
        lines.append(
            f"规下企业实际用地 {_num(d['land_area_mu'][i])} 亩 ≥ {min_land} 亩（以上，含本数），参评"
            "（参数 mujun.below_scale_min_land_mu）"
            if zh
            else f"below-scale firm with {_num(d['land_area_mu'][i])} mu ≥ {min_land} mu (inclusive): evaluated "
            "(mujun.below_scale_min_land_mu)"
        )
    group = ABOVE if above else "below_scale"
    bench = r.benchmarks[group]
    source = (
        (
            "基准值为当年全市参评企业合计之比（参数 mujun.benchmark_mode = aggregate，假设）"
            if m.benchmark_mode == "aggregate"
            else "基准值为公布常数（参数 mujun.benchmark_constants）"
        )
        if zh
        else (
            "benchmarks are this year's county aggregates of the evaluated firms "
            "(mujun.benchmark_mode = aggregate, assumption)"
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
        param = "mujun.quotas_above_scale" if above else "mujun.quotas_below_scale"
        share = ("、" if zh else ", ").join(f"{k} {_pct(v)}" for k, v in quotas.items())
        edges = f"{_num(e['A'], 3)}、{_num(e['B'], 3)}、{_num(e['C'], 3)}"
        if zh:
            lines.append(
                f"{group_label(g)}企业参与排名 {r.group_size[i]} 家，本企业第 {r.rank[i]} 名"
                "（同分按亩均税收、统一社会信用代码排序）"
            )
            lines.append(
                f"比例 {share}（假设参数 {param}，预设为温岭口径）：A 类 {c['A']} 家、B 类 {c['B']} 家、"
                f"C 类 {c['C']} 家、D 类 {c['D']} 家；A/B、B/C、C/D 分界得分 {edges}"
            )
            lines.append(f"按排名计算的类别：{r.computed[i]}")
        else:
            lines.append(
                f"{group_label(g, 'en')} ranking: {r.group_size[i]} firms, this firm ranks {r.rank[i]} "
                "(ties: tax per mu, then credit code)"
            )
            lines.append(
                f"quotas {share} (assumption {param}; the preset is Wenling's): A {c['A']}, B {c['B']}, "
                f"C {c['C']}, D {c['D']}; edge scores {edges.replace('、', ', ')}"
            )
            lines.append(f"class from the ranking: {r.computed[i]}")
    if r.vetoed[i]:
        v_zh, v_en = VETO.get(str(d.veto[i]), (str(d.veto[i]), str(d.veto[i])))
        if m.veto_outside_quota:
            lines.append(
                f"一票否决：{v_zh} → {r.final[i]} 类，不参与排名、不占比例"
                "（假设参数 mujun.vetoes、mujun.veto_outside_quota）"
                if zh
                else f"veto: {v_en} → class {r.final[i]}, outside the ranking and quotas "
                "(assumption mujun.vetoes, mujun.veto_outside_quota)"
            )
        else:
            lines.append(
                f"一票否决：{v_zh} → {r.final[i]} 类；仍参与排名、占用比例"
                "（假设参数 mujun.vetoes、mujun.veto_outside_quota）"
                if zh
                else f"veto: {v_en} → class {r.final[i]}; the firm stays inside the ranking and uses a quota place "
                "(assumption mujun.vetoes, mujun.veto_outside_quota)"
            )
    code = OVERRIDES[int(r.override_code[i])]
    if code in OVERRIDE:
        fai = fmt_number(int(d.fen("fixed_asset_investment")[i]), 2)
        limit, term_zh, term_en = _threshold(r, LIMIT[code])
        lines.append(OVERRIDE[code][0 if zh else 1].format(fai=fai, limit=limit, term_zh=term_zh, term_en=term_en))
    lines.append(f"最终类别：{r.final[i]}" if zh else f"final class: {r.final[i]}")
    lines.append(_prices(r, i, zh))
    if r.carbon_grade[i] > 0:
        level = LEVELS[int(r.carbon_level[i])]
        lo, mid = _dec(m.carbon_low_max), _dec(m.carbon_medium_max)
        cuts = [_dec(x) for x in m.carbon_cuts]
        lines.append(
            f"碳效码：单位增加值碳排放 {_num(r.carbon_intensity[i])} 吨/万元（{LEVEL_ZH[level]}；"
            f"低碳 ≤ {lo} < 中碳 ≤ {mid} < 高碳），碳效值 {_num(r.carbon_value[i])}，{r.carbon_grade[i]} 级"
            f"（等级分界 {'、'.join(cuts)}，含本数）"
            if zh
            else f"carbon code: intensity {_num(r.carbon_intensity[i])} t/10k yuan ({level}; "
            f"low ≤ {lo} < medium ≤ {mid} < high), efficiency value {_num(r.carbon_value[i])}, "
            f"grade {r.carbon_grade[i]} (cut points {', '.join(cuts)}, inclusive)"
        )
    lines += _flags(r, i, zh)
    return lines


def _prices(r: Result, i: int, zh: bool) -> str:
    """The land-use tax relief and the electricity surcharge, with the standards of the run."""
    m = r.method
    final, streak = str(r.final[i]), int(r.d_streak[i])
    relief = _pct(m.relief.get(final, Decimal(0)))
    persistent = final == "D" and streak >= m.persistent_years
    surcharge = _yuan_rate(m.surcharge_persistent if persistent else m.surcharge.get(final, Decimal(0)))
    std, more = _yuan_rate(m.surcharge.get("D", Decimal(0))), _yuan_rate(m.surcharge_persistent)
    n = m.persistent_years
    if zh:
        basis = (
            f"D 类 {std} 元/千瓦时，连续 D 类 {n} 年以上 {more} 元/千瓦时；本企业连续 D 类 {streak} 年；"
            "参数 mujun.electricity_surcharge*、mujun.persistent_d_years"
            if final == "D"
            else f"{final} 类标准，参数 mujun.electricity_surcharge"
        )
        return (
            f"城镇土地使用税减免 {relief}（{final} 类，参数 mujun.land_use_tax_relief，预设依据浙政办发〔2019〕62号）；"
            f"差别电价加价 {surcharge} 元/千瓦时（{basis}）"
        )
    basis = (
        f"class D {std}, {more} after {n} or more years in D; {streak} year(s) in D running; "
        "mujun.electricity_surcharge*, mujun.persistent_d_years"
        if final == "D"
        else f"the class {final} rate, mujun.electricity_surcharge"
    )
    return (
        f"land-use tax relief {relief} (class {final}, mujun.land_use_tax_relief; preset from 浙政办发〔2019〕62号); "
        f"electricity surcharge {surcharge} yuan/kWh ({basis})"
    )


def _flags(r: Result, i: int, zh: bool) -> list[str]:
    """The A.2 flags and the 高耗低效 candidate flag, with the firm's figures and the parameters that decided them."""
    m, d = r.method, r.data
    tax = _num(r.indicators["tax_per_mu"][i])
    out = []
    years, _, _ = _threshold(r, "low_efficiency.consecutive_years")
    if r.low_efficiency[i]:
        cap, t_zh, t_en = _threshold(r, "low_efficiency.low_efficiency_max_tax_per_mu")
        out.append(
            f"附件二低效企业：本年亩均税收 {tax} 万元/亩，连续 {years} 年亩均税收 {cap} 万元/亩{t_zh}"
            "（参数 low_efficiency.low_efficiency_max_tax_per_mu、low_efficiency.consecutive_years）"
            if zh
            else f"low-efficiency firm (A.2): tax per mu {tax} this year; {years} years running at most {cap} "
            f"(10k yuan per mu, {t_en}; low_efficiency.low_efficiency_max_tax_per_mu, low_efficiency.consecutive_years)"
        )
    if r.billion_low_tax[i]:
        revenue = fmt_number(int(d.fen("revenue")[i]), 2)
        floor, f_zh, f_en = _threshold(r, "low_efficiency.billion_min_revenue")
        cap, t_zh, t_en = _threshold(r, "low_efficiency.billion_max_tax_per_mu")
        out.append(
            f"附件二亩均税收偏低的亿元企业：本年营业收入 {revenue} 元（{floor} 元{f_zh}）、亩均税收 {tax} 万元/亩，"
            f"连续 {years} 年亩均税收 {cap} 万元/亩{t_zh}（参数 low_efficiency.billion_min_revenue、"
            "low_efficiency.billion_max_tax_per_mu、low_efficiency.consecutive_years）"
            if zh
            else f"100-million-yuan firm with low tax per mu (A.2): revenue {revenue} yuan (at least {floor}, {f_en}) "
            f"and tax per mu {tax} this year; {years} years running at most {cap} (10k yuan per mu, {t_en}; "
            "low_efficiency.billion_min_revenue, low_efficiency.billion_max_tax_per_mu, "
            "low_efficiency.consecutive_years)"
        )
    if r.candidate[i]:
        energy = r.indicators["value_added_per_energy"][i]
        if np.isfinite(energy):
            out.append(
                f"高耗低效企业候选：单位能耗增加值 {_num(energy)} 万元/吨标准煤，未达到所在大类规上企业中位数的 "
                f"{_pct(m.hcle_ratio)}（假设参数 mujun.hcle_energy_ratio）"
                if zh
                else f"high-consumption low-efficiency candidate: value added per tce {_num(energy)} is below "
                f"{_pct(m.hcle_ratio)} of the division's above-scale median (assumption mujun.hcle_energy_ratio)"
            )
        else:
            out.append(
                f"高耗低效企业候选：无能耗数据，最终类别为 {r.final[i]}（假设参数 mujun.hcle_fallback_classes）"
                if zh
                else f"high-consumption low-efficiency candidate: no energy data and final class {r.final[i]} "
                "(assumption mujun.hcle_fallback_classes)"
            )
    return out
