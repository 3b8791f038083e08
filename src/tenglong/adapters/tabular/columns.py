"""Column specs of the enterprise-year table: the single source for import, export and template.

A file has either Chinese headers (``实缴税金(万元)``, unit in half- or full-width
parentheses) or English headers (the keys, ``tax_paid``, money in 元, optionally
with a unit suffix such as ``tax_paid (元)``), never a mix.

Header matching (:func:`match_header`) ignores spaces and line breaks, letter case,
and full-width forms (NFKC), so ``实缴税金（万元）`` and ``实缴税金 (万元)`` are the
same header. A column with several unit options (money: 元 or 万元; electricity:
千瓦时 or 万千瓦时) must say its unit in a Chinese header, because a wrong guess is
off by a factor of 10,000; an English header without a unit means the natural unit.
A column with one unit option may leave it out. A parenthesised note on a column
without units (``是否规上(是/否)``) is ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from ...registers.kinds import load as _kinds

ALWAYS, ABOVE_SCALE, OPTIONAL = "always", "above_scale", "optional"
"""When a value is required: on every row, on 规上 rows only, or never (a default applies)."""


@dataclass(frozen=True)
class Unit:
    """A unit a header may declare; ``natural = written × 10**shift``."""

    zh: str
    en: str
    shift: int = 0
    aliases: tuple[str, ...] = ()

    def spellings(self) -> set[str]:
        """Every accepted spelling, normalised like a header."""
        return {normalise(s) for s in (self.zh, self.en, *self.aliases)}


YUAN = Unit("元", "yuan", 0, ("cny", "rmb", "人民币元"))
WAN_YUAN = Unit("万元", "10k yuan", 4, ("万", "10,000 yuan", "wan yuan"))
MU = Unit("亩", "mu")
TCE = Unit("吨标准煤", "tce", 0, ("吨标煤", "t标准煤", "吨ce"))
TONNE = Unit("吨", "t", 0, ("tonne", "tonnes"))
CO2_TONNE = Unit("吨", "t", 0, ("吨二氧化碳", "吨co2", "tco2", "tonne", "tonnes"))
PERSON = Unit("人", "persons", 0, ("people",))
KWH = Unit("千瓦时", "kWh", 0, ("度", "kw·h", "kw.h"))
WAN_KWH = Unit("万千瓦时", "10k kWh", 4, ("万度", "万kwh", "10,000 kWh"))


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the enterprise-year table.

    Attributes:
        key: English name, the canonical column and the English header.
        zh: Chinese header without its unit.
        kind: how cells are parsed: ``credit_code``, ``text``, ``year``, ``town``,
            ``industry``, ``bool``, ``number``, ``integer``, ``veto`` or ``tags``.
        required: :data:`ALWAYS`, :data:`ABOVE_SCALE` or :data:`OPTIONAL`.
        dtype: polars type in the canonical frame.
        units: accepted units, the natural one (canonical frame, English) first.
        zh_unit: the unit of the Chinese template and export.
        synonyms: other accepted Chinese headers (without unit).
        max_decimals: decimals allowed in the natural unit (``None``: no limit).
        positive: the value must be > 0 (land), not just ≥ 0.
        default: value of a blank optional cell or an absent optional column.
        example: a valid value in the natural unit, as text.
        note_zh / note_en: one line for the instructions sheet.
    """

    key: str
    zh: str
    kind: str
    required: str
    dtype: pl.DataType
    note_zh: str
    note_en: str
    example: str
    units: tuple[Unit, ...] = ()
    zh_unit: Unit | None = None
    synonyms: tuple[str, ...] = ()
    max_decimals: int | None = None
    positive: bool = False
    default: object = None
    en_synonyms: tuple[str, ...] = field(default=())

    def unit_for(self, lang: str) -> Unit | None:
        """The unit this column is written in by the template/export of ``lang``."""
        if not self.units:
            return None
        return (self.zh_unit or self.units[0]) if lang == "zh" else self.units[0]

    def header(self, lang: str) -> str:
        """The header written by the template and the export, e.g. ``实缴税金(万元)``."""
        if lang == "en":
            return self.key
        unit = self.unit_for("zh")
        return f"{self.zh}({unit.zh})" if unit else self.zh

    def accepted_headers(self, lang: str) -> list[str]:
        """Headers that name this column, for error messages (synonyms not listed)."""
        if lang == "en":
            return [self.key] + [f"{self.key} ({u.zh})" for u in self.units[1:]]
        if not self.units:
            return [self.zh]
        return [f"{self.zh}({u.zh})" for u in self.units]

    def example_in(self, unit: Unit | None) -> str:
        """:attr:`example` written in ``unit`` (exact decimal shift)."""
        if unit is None or unit.shift == 0 or self.kind not in ("number", "integer"):
            return self.example
        return format(Decimal(self.example).scaleb(-unit.shift).normalize(), "f")


_QUALITY = _kinds()["quality_retention"]
TAG_CLAUSE = _QUALITY.clause
TAG_CATEGORIES = tuple(c for c in _QUALITY.categories if c.key not in ("class_a", "class_b"))
"""The tags of the 企业标签 column (A.3.16): the categories of the quality_retention register but the 亩均 classes,
which come from the evaluation (``services/enterprises/tags.py`` reads the same kind)."""

_MONEY = (YUAN, WAN_YUAN)
_MONEY_NOTE = (
    "中文模板以万元填报，最多6位小数（精确到分）；也可在表头写(元)按元填报，最多2位小数。",
    "Chinese template: 万元 with up to 6 decimals (exact to the fen); a header in (元) takes 元 with up to 2.",
)


def _money(key: str, zh: str, required: str, what_zh: str, what_en: str, example: str, **kw) -> ColumnSpec:
    return ColumnSpec(
        key,
        zh,
        "number",
        required,
        pl.Float64,
        what_zh + _MONEY_NOTE[0],
        what_en + " " + _MONEY_NOTE[1],
        example,
        _MONEY,
        WAN_YUAN,
        max_decimals=2,
        **kw,
    )


SPECS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "credit_code",
        "统一社会信用代码",
        "credit_code",
        ALWAYS,
        pl.String,
        "18位，GB 32100-2015，含校验码；请把该列设为文本格式，以免Excel改写长数字。",
        "18 characters (GB 32100-2015) with the check character; format the column as text so Excel keeps every digit.",
        "91331082MA2AB3CF7N",
        synonyms=("信用代码", "社会信用代码"),
    ),
    ColumnSpec(
        "name",
        "企业名称",
        "text",
        ALWAYS,
        pl.String,
        "营业执照上的全称。",
        "Registered name.",
        "临海市鑫达机械有限公司",
        synonyms=("单位名称", "企业名"),
    ),
    ColumnSpec(
        "year",
        "年度",
        "year",
        ALWAYS,
        pl.Int32,
        "数据所属年度，四位数字。",
        "Data year, four digits.",
        "2023",
        synonyms=("年份", "数据年度"),
    ),
    ColumnSpec(
        "town",
        "所在镇(街道)",
        "town",
        ALWAYS,
        pl.String,
        "可填镇(街道)全称、简称或代码，开发区填开发区名称；见“镇街”表。",
        "Town or zone: full name, short name or code (see the town list).",
        "杜桥镇",
        synonyms=("所在镇街", "镇(街道)", "镇街", "所属镇(街道)", "所属镇街"),
    ),
    ColumnSpec(
        "industry",
        "行业代码",
        "industry",
        ALWAYS,
        pl.String,
        "GB/T 4754-2017制造业代码：大类C13–C43，或其下的中类、小类，如C27、C271、C2710；可省略字母C。",
        (
            "GB/T 4754-2017 manufacturing code: division C13–C43 or a group/class in it (C27, C271, C2710); "
            "the C may be left out."
        ),
        "C2710",
        synonyms=("国民经济行业代码", "行业代码(GB/T4754)", "行业分类代码"),
    ),
    ColumnSpec(
        "above_scale",
        "是否规上",
        "bool",
        ALWAYS,
        pl.Boolean,
        "规上=规模以上工业企业（年主营业务收入2000万元及以上）。填 是/否、规上/规下 或 1/0。",
        (
            "规上 = above-scale industrial enterprise (annual main revenue ≥ 20 million yuan): "
            "是/否, 规上/规下, true/false or 1/0."
        ),
        "是",
        synonyms=("是否规上企业", "是否规模以上", "规上/规下"),
    ),
    ColumnSpec(
        "land_area_mu",
        "用地面积",
        "number",
        ALWAYS,
        pl.Float64,
        "企业实际使用的工业用地，亩，大于0，最多4位小数。",
        "Industrial land in use, 亩 (mu), > 0, up to 4 decimals.",
        "27.5",
        (MU,),
        max_decimals=4,
        positive=True,
        synonyms=("土地面积", "用地"),
    ),
    _money(
        "tax_paid",
        "实缴税金",
        ALWAYS,
        "本年实缴税金。",
        "Taxes paid in the year.",
        "1253600",
        synonyms=("实缴税收", "实缴税额"),
    ),
    _money(
        "value_added",
        "工业增加值",
        ABOVE_SCALE,
        "规上企业必填；规下可空。",
        "Required for 规上; may be blank for 规下.",
        "48000000",
        synonyms=("增加值",),
    ),
    _money("revenue", "营业收入", ABOVE_SCALE, "规上企业必填。", "Required for 规上.", "210000000"),
    _money(
        "rd_expense",
        "研发经费",
        ABOVE_SCALE,
        "研发经费支出，规上企业必填（无则填0）。",
        "R&D expenditure; required for 规上 (0 if none).",
        "4830000",
        synonyms=("研发经费支出", "研发费用"),
    ),
    ColumnSpec(
        "energy_tce",
        "综合能耗",
        "number",
        ABOVE_SCALE,
        pl.Float64,
        "吨标准煤（等价值），规上企业必填。",
        "Tonnes of standard coal equivalent; required for 规上.",
        "1850.5",
        (TCE,),
    ),
    ColumnSpec(
        "emission_equivalent_t",
        "主要污染物排放当量",
        "number",
        OPTIONAL,
        pl.Float64,
        "吨；无排放数据则留空（不是0）。",
        "Tonnes; leave blank when there is no emission data (blank is not 0).",
        "0.96",
        (TONNE,),
        synonyms=("排放当量", "污染物排放当量"),
    ),
    ColumnSpec(
        "employees",
        "年平均职工人数",
        "integer",
        ABOVE_SCALE,
        pl.Int64,
        "人，整数，规上企业必填。",
        "Annual average headcount, whole number; required for 规上.",
        "215",
        (PERSON,),
        max_decimals=0,
        synonyms=("职工人数", "年平均从业人员", "从业人员平均人数"),
    ),
    ColumnSpec(
        "electricity_kwh",
        "用电量",
        "number",
        ALWAYS,
        pl.Float64,
        "千瓦时；表头写(万千瓦时)则按万千瓦时填报。",
        "kWh; a header in (万千瓦时) takes 10,000 kWh.",
        "3200000",
        (KWH, WAN_KWH),
        KWH,
        synonyms=("总用电量", "年用电量"),
    ),
    ColumnSpec(
        "carbon_emission_t",
        "碳排放量",
        "number",
        OPTIONAL,
        pl.Float64,
        "吨二氧化碳；无数据可留空。",
        "Tonnes of CO2; may be blank.",
        "4120.8",
        (CO2_TONNE,),
        synonyms=("二氧化碳排放量",),
    ),
    _money(
        "fixed_asset_investment",
        "固定资产投资",
        OPTIONAL,
        "本年固定资产投资（不含土地），空=0。",
        "Fixed-asset investment of the year, land excluded; blank = 0.",
        "3500000",
        default=0.0,
        synonyms=("本年固定资产投资",),
    ),
    ColumnSpec(
        "in_construction_period",
        "是否处于项目建设期",
        "bool",
        OPTIONAL,
        pl.Boolean,
        "是/否，空=否（第八条：建设期内的新增用地不计入亩均评价）。",
        "是/否, blank = no (clause 2.8: new land under construction is not evaluated).",
        "否",
        default=False,
        synonyms=("是否建设期", "项目建设期", "是否在建"),
    ),
    ColumnSpec(
        "veto",
        "一票否决事项",
        "veto",
        OPTIONAL,
        pl.String,
        "无则留空；有则填 重大安全事故 / 严重环境违法 / 数据造假 之一。",
        "Blank if none; else one of fatal_safety_accident, serious_environmental_violation, falsified_data.",
        "",
        default="",
        synonyms=("一票否决",),
    ),
    ColumnSpec(
        "tags",
        "企业标签",
        "tags",
        OPTIONAL,
        pl.String,
        f"{TAG_CLAUSE}所列企业类别，多个用“、”分隔：{'、'.join(c.zh for c in TAG_CATEGORIES)}。"
        "空＝不改变已有标签；填“无”＝清除已有标签。",
        f"Tags of clause {TAG_CLAUSE}, separated by “、” or commas: {', '.join(c.key for c in TAG_CATEGORIES)} "
        "(or their Chinese names). Blank keeps the enterprise's tags; “无” or none clears them.",
        "、".join(c.zh for c in TAG_CATEGORIES if c.key in ("listed", "little_giant")),
        synonyms=("标签", "企业类别标签", "优质企业标签"),
    ),
)
BY_KEY = {s.key: s for s in SPECS}
COLUMNS = tuple(s.key for s in SPECS)
CANONICAL_SCHEMA = pl.Schema({s.key: s.dtype for s in SPECS})
"""The canonical frame: these columns, in this order, with these types."""

BOOL_WORDS = {
    "是": True,
    "否": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
}
ABOVE_SCALE_WORDS = {**BOOL_WORDS, "规上": True, "规下": False, "规模以上": True, "规模以下": False}
VETOES = {
    "fatal_safety_accident": "重大安全事故",
    "serious_environmental_violation": "严重环境违法",
    "falsified_data": "数据造假",
}
NO_VETO = ("无", "none")
"""A veto cell may be blank or say 无 / none; otherwise an English code or its Chinese label."""


def normalise(text: str) -> str:
    """Header form used for matching: NFKC (full-width → ASCII), no whitespace, case-folded.

    >>> normalise(" 实缴税金（万元）\\n"), normalise("Tax_Paid (元)")
    ('实缴税金(万元)', 'tax_paid(元)')
    """
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _names() -> dict[str, tuple[ColumnSpec, str]]:
    table: dict[str, tuple[ColumnSpec, str]] = {}
    for s in SPECS:
        for name in (s.zh, *s.synonyms):
            table[normalise(name)] = (s, "zh")
        for name in (s.key, s.key.replace("_", "")):
            table[normalise(name)] = (s, "en")
    return table


_NAMES = _names()
_WITH_UNIT = re.compile(r"^(.*)\(([^()]*)\)$")


@dataclass(frozen=True)
class HeaderMatch:
    """What one header cell means.

    Attributes:
        spec: the column it names.
        language: ``"zh"`` or ``"en"``, by which name matched.
        unit: the unit in force (``None`` for a column without units or on a problem).
        problem: ``None``, ``"missing_unit"`` or ``"unknown_unit"``.
        unit_text: the unit as written, for ``unknown_unit``.
    """

    spec: ColumnSpec
    language: str
    unit: Unit | None
    problem: str | None = None
    unit_text: str = ""


def match_header(text: object) -> HeaderMatch | None:
    """The column a header names, or ``None`` for an unknown header.

    >>> m = match_header("实缴税金（万元）"); m.spec.key, m.unit.zh, m.language
    ('tax_paid', '万元', 'zh')
    >>> match_header("所在镇(街道)").spec.key, match_header("tax_paid (元)").unit.zh
    ('town', '元')
    >>> match_header("实缴税金").problem, match_header("实缴税金(千元)").problem
    ('missing_unit', 'unknown_unit')
    >>> match_header("备注") is None
    True
    """
    if not isinstance(text, str) or not text.strip():
        return None
    norm = normalise(text)
    if norm in _NAMES:
        spec, lang = _NAMES[norm]
        if not spec.units:
            return HeaderMatch(spec, lang, None)
        if lang == "en" or len(spec.units) == 1:
            return HeaderMatch(spec, lang, spec.units[0])
        return HeaderMatch(spec, lang, None, "missing_unit")
    split = _WITH_UNIT.match(norm)
    if split is None or split.group(1) not in _NAMES:
        return None
    spec, lang = _NAMES[split.group(1)]
    if not spec.units:
        return HeaderMatch(spec, lang, None)  # a note such as (是/否)
    for unit in spec.units:
        if split.group(2) in unit.spellings():
            return HeaderMatch(spec, lang, unit)
    return HeaderMatch(spec, lang, None, "unknown_unit", split.group(2))


@dataclass(frozen=True)
class HeaderIssue:
    """A problem with the header row; ``position`` is the column index (None: file level)."""

    code: str
    position: int | None
    key: str | None = None
    detail: dict = field(default_factory=dict)


@dataclass
class HeaderMap:
    """Result of :func:`map_headers`."""

    language: str | None
    columns: dict[str, tuple[int, Unit | None]]
    ignored: list[int]
    issues: list[HeaderIssue]


def map_headers(headers: list[str | None]) -> HeaderMap:
    """Map the header row to column keys; list every problem.

    The language is the one most headers match (Chinese on a tie). A header of the
    other language is ``mixed_header_language``; the same column twice is
    ``duplicate_column``; an absent :data:`ALWAYS` or :data:`ABOVE_SCALE` column is
    ``missing_column``; no recognised header at all is ``no_known_headers``.
    Unknown headers are returned in ``ignored``.
    """
    matches = [match_header(h) for h in headers]
    votes = [m.language for m in matches if m]
    if not votes:
        return HeaderMap(None, {}, [i for i, h in enumerate(headers) if h], [HeaderIssue("no_known_headers", None)])
    language = "en" if votes.count("en") > votes.count("zh") else "zh"
    columns: dict[str, tuple[int, Unit | None]] = {}
    ignored: list[int] = []
    issues: list[HeaderIssue] = []
    mixed: set[str] = set()
    for i, m in enumerate(matches):
        if m is None:
            if headers[i] is not None and str(headers[i]).strip():
                ignored.append(i)
            continue
        key = m.spec.key
        if m.language != language:
            issues.append(HeaderIssue("mixed_header_language", i, key, {"language": language}))
            mixed.add(key)
        elif key in columns:
            issues.append(HeaderIssue("duplicate_column", i, key, {"first": columns[key][0]}))
        elif m.problem:
            issues.append(HeaderIssue(m.problem, i, key, {"unit": m.unit_text}))
            columns[key] = (i, None)
        else:
            columns[key] = (i, m.unit)
    for spec in SPECS:
        if spec.required != OPTIONAL and spec.key not in columns and spec.key not in mixed:
            issues.append(HeaderIssue("missing_column", None, spec.key, {"language": language}))
    return HeaderMap(language, columns, ignored, issues)
