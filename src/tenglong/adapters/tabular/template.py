"""The import template: a workbook the county's officials fill in (``tenglong template``).

Sheets (Chinese / English):

* 填报说明 / instructions — what each column means, its unit, when it is required and
  an example; what 规上/规下 means; that money is 万元 in the Chinese template;
* 企业数据 / data — the header row only (bold, frozen, widths set), number formats
  per column, text format for codes, and data validation: drop-downs for the town,
  the industry, 是/否 and the veto, and range checks for numbers. Examples live in
  the instructions only, so an untouched data sheet imports clean (zero rows);
* 镇街 / towns and 行业 / industries — the lists behind the drop-downs.

The industry drop-down offers ``C2710 化学药品原料药制造``; the importer reads the
code before the first space. The town drop-down offers the full names, which the
importer accepts like the codes.
"""

from __future__ import annotations

from pathlib import Path

from ...core.reference_data import industries, towns
from .columns import ABOVE_SCALE, ALWAYS, SPECS, VETOES, ColumnSpec
from .xlsx import Book, Sheet

LAST_ROW = 1_048_575
"""Validations and formats cover the whole sheet (0-based last row of Excel)."""

_SHEETS = {
    "zh": {"help": "填报说明", "data": "企业数据", "towns": "镇街", "industries": "行业"},
    "en": {"help": "instructions", "data": "data", "towns": "towns", "industries": "industries"},
}
_YES_NO = {"zh": ["是", "否"], "en": ["true", "false"]}
_FORMATS = {
    "land_area_mu": "0.0000",
    "energy_tce": "0.000",
    "emission_equivalent_t": "0.0000",
    "employees": "0",
    "electricity_kwh": "0",
    "carbon_emission_t": "0.000",
    "year": "0",
}

_NOTES = {
    "zh": [
        "亩均效益综合评价 企业数据填报模板（临政发〔2022〕22号）",
        "1. 每行填一家企业一个年度；同一统一社会信用代码同一年度只能有一行。",
        "2. “企业数据”表第一行是表头，请勿修改或删除；增加的其他列在导入时忽略并提示。",
        "3. 金额单位为万元，最多6位小数（精确到分）。如按元填报，请把该列表头的单位改为(元)，最多2位小数。",
        "4. 规上＝规模以上工业企业（年主营业务收入2000万元及以上的工业法人单位），规下＝其余工业企业。"
        "规上企业必须填写工业增加值、营业收入、研发经费、综合能耗、年平均职工人数；规下企业可空。",
        "5. 统一社会信用代码列为文本格式；从其他表格粘贴时请用“选择性粘贴—数值”，以免长数字被改写。",
        "6. 所在镇(街道)、行业代码、是否规上、是否处于项目建设期、一票否决事项可从下拉列表选择"
        "（列表见“镇街”“行业”表）。",
        "7. 填好后可用命令检查：tenglong import-check 文件.xlsx（列出所有错误的单元格、原值和正确写法）。",
    ],
    "en": [
        "Per-mu evaluation: enterprise data template (临政发〔2022〕22号)",
        "1. One row per enterprise and year; a credit code appears once per year.",
        "2. Row 1 of the data sheet holds the headers: do not edit or delete them; "
        "extra columns are ignored with a warning.",
        "3. Money is in yuan (元) with up to 2 decimals; a header with (万元) takes 10,000 yuan with up to 6 decimals.",
        "4. 规上 = above-scale industrial enterprise (annual main revenue ≥ 20 million yuan); 规下 = the others. "
        "规上 rows must give value added, revenue, R&D, energy and employees; 规下 rows may leave them blank.",
        "5. The credit-code column is text; paste values only, so that Excel keeps every character.",
        "6. Town, industry, above_scale, in_construction_period and veto have drop-down lists (see the list sheets).",
        "7. Check a filled file with: tenglong import-check FILE.xlsx",
    ],
}
_TABLE_HEAD = {
    "zh": ["列", "表头", "英文名", "单位", "是否必填", "说明", "示例"],
    "en": ["column", "header", "Chinese header", "unit", "required", "description", "example"],
}


def _required(spec: ColumnSpec, lang: str) -> str:
    if spec.kind == "tags":
        return "选填（空＝不改变，无＝清除）" if lang == "zh" else "optional (blank = unchanged, none = cleared)"
    if spec.required == ALWAYS:
        return "必填" if lang == "zh" else "always"
    if spec.required == ABOVE_SCALE:
        return "规上企业必填" if lang == "zh" else "for 规上 rows"
    # False == 0 in Python, so a dict keyed by both would mix up the bool and the number defaults.
    if spec.default is False:
        default = "否" if lang == "zh" else "false"
    elif spec.default == "":
        default = "无" if lang == "zh" else "none"
    elif spec.default == 0:
        default = "0"
    else:
        default = "空" if lang == "zh" else "blank"
    return f"选填（空＝{default}）" if lang == "zh" else f"optional (blank = {default})"


def _example(spec: ColumnSpec, lang: str) -> str:
    if spec.kind == "bool":
        return _YES_NO[lang][0 if spec.example == "是" else 1]
    if spec.kind == "veto":
        return "数据造假" if lang == "zh" else "falsified_data"
    if spec.kind == "tags" and lang == "en":
        return "listed,little_giant"
    return spec.example_in(spec.unit_for(lang))


def write_template(path: str | Path | None, lang: str = "zh") -> Path | bytes:
    """Write the import template.

    Args:
        path: the .xlsx to write, or ``None`` for the bytes of the workbook.
        lang: ``"zh"`` (Chinese headers, money in 万元) or ``"en"`` (English, 元).

    Returns:
        The path written (or the bytes).

    Raises:
        ValueError: for another language.
    """
    if lang not in _SHEETS:
        raise ValueError(f"lang must be 'zh' or 'en', e.g. lang='zh'; got {lang!r}")
    from .reader import column_letter

    names = _SHEETS[lang]
    with Book(path) as book:
        help_ws = book.sheet(names["help"])
        data = book.sheet(names["data"])
        town_ws = book.sheet(names["towns"])
        industry_ws = book.sheet(names["industries"])

        # Instructions.
        help_ws.column(0, 0, 6)
        help_ws.column(1, 2, 24)
        help_ws.column(3, 4, 14)
        help_ws.column(5, 5, 70, "wrap")
        help_ws.column(6, 6, 22)
        notes = _NOTES[lang]
        help_ws.write(0, 0, notes[0], "heading")
        for r, line in enumerate(notes[1:], start=1):
            help_ws.write(r, 0, line)
        top = len(notes) + 1
        help_ws.write_row(top, 0, _TABLE_HEAD[lang], "header")
        for i, spec in enumerate(SPECS):
            unit = spec.unit_for(lang)
            other = spec.header("zh" if lang == "en" else "en")
            help_ws.write_row(
                top + 1 + i,
                0,
                [
                    column_letter(i),
                    spec.header(lang),
                    other,
                    (unit.zh if lang == "zh" else unit.en) if unit else "",
                    _required(spec, lang),
                    spec.note_zh if lang == "zh" else spec.note_en,
                    _example(spec, lang),
                ],
            )

        # Lists.
        town_ws.write_row(
            0,
            0,
            ["名称", "代码", "类型", "English name"] if lang == "zh" else ["name", "code", "kind", "中文名称"],
            "header",
        )
        for r, t in enumerate(towns(), start=1):
            town_ws.write_row(
                r,
                0,
                [t.name_zh if lang == "zh" else t.name_en, t.code, t.kind, t.name_en if lang == "zh" else t.name_zh],
            )
        town_ws.column(0, 0, 44)
        town_ws.column(1, 3, 16)
        industry_ws.write_row(
            0,
            0,
            ["下拉选项", "代码", "名称", "层级"] if lang == "zh" else ["drop-down", "code", "name", "level"],
            "header",
        )
        entries = industries()
        for r, e in enumerate(entries, start=1):
            name = e.name_zh if lang == "zh" else e.name_en
            industry_ws.write_row(r, 0, [f"{e.code} {name}", e.code, name, e.level])
        industry_ws.column(0, 0, 60)
        industry_ws.column(1, 3, 14)

        # Data sheet.
        data.freeze(1, 0)
        data.row_height(0, 32)
        for i, spec in enumerate(SPECS):
            data.write(0, i, spec.header(lang), "header")
            fmt = "code" if spec.kind in ("credit_code", "text", "town", "industry", "veto", "tags") else None
            if spec.kind == "number" and spec.key not in _FORMATS:
                fmt = book.format({"num_format": "0.00####" if spec.unit_for(lang).shift else "0.00"})
            elif spec.key in _FORMATS:
                fmt = book.format({"num_format": _FORMATS[spec.key]})
            width = (
                24 if spec.kind in ("credit_code", "text", "industry", "tags") else max(12, len(spec.header(lang)) * 2)
            )
            data.column(i, i, width, fmt)
            _validate(data, i, spec, lang, names, len(towns()), len(entries))
    return book.close()


def _validate(ws: Sheet, col: int, spec: ColumnSpec, lang: str, names: dict, n_towns: int, n_industries: int) -> None:
    """Data validation of one column of the data sheet."""
    title = spec.header(lang)
    if spec.kind == "town":
        rule = {"validate": "list", "source": f"='{names['towns']}'!$A$2:$A${n_towns + 1}"}
    elif spec.kind == "industry":
        rule = {"validate": "list", "source": f"='{names['industries']}'!$A$2:$A${n_industries + 1}"}
    elif spec.kind == "bool":
        rule = {"validate": "list", "source": _YES_NO[lang]}
    elif spec.kind == "veto":
        rule = {"validate": "list", "source": list(VETOES.values()) if lang == "zh" else list(VETOES)}
    elif spec.kind == "year":
        rule = {"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100}
    elif spec.kind == "integer":
        rule = {"validate": "integer", "criteria": ">=", "value": 0}
    elif spec.kind == "number":
        rule = {"validate": "decimal", "criteria": ">" if spec.positive else ">=", "value": 0}
    else:
        return
    message = spec.note_zh if lang == "zh" else spec.note_en
    rule.update(
        {
            "input_title": title[:32],
            "input_message": message[:255],
            "error_title": title[:32],
            "error_message": message[:255],
            "ignore_blank": True,
        }
    )
    ws.validate(1, col, LAST_ROW, col, rule)
