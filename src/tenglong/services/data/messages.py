"""Bilingual texts of the import problems: one entry per stable problem code.

Each entry is ``(message_zh, message_en, expected_zh, expected_en)``, formatted with
``str.format`` from the fields the importer supplies: ``where`` (``企业数据!C12
(年度)``), ``value``, ``header``, ``unit_zh``/``unit_en`` and code-specific ones.
The example comes from the column spec (see :func:`render`). The texts of unreadable and
refused files (``unreadable_file``, ``file_too_large``, ``too_many_cells``…) live with the
reader's guard, which renders them, and are merged in here.
"""

from __future__ import annotations

from typing import Any

from ...adapters.tabular.guard import MESSAGES as FILE_LIMITS
from ...core import credit_code as gb32100

_CODE_CHARS_ZH = "数字和除I、O、S、V、Z以外的大写字母"
_CODE_CHARS_EN = "digits and capitals except I, O, S, V, Z"

MESSAGES: dict[str, tuple[str, str, str, str]] = {
    # --- cells ------------------------------------------------------------------------
    "credit_code_length": (
        "{where}：统一社会信用代码「{value}」有{length}个字符，应为18个。",
        "{where}: the unified social credit code '{value}' has {length} characters; it must have 18.",
        f"18位统一社会信用代码（{_CODE_CHARS_ZH}）",
        f"an 18-character unified social credit code ({_CODE_CHARS_EN})",
    ),
    "credit_code_charset": (
        "{where}：统一社会信用代码「{value}」含不允许的字符「{bad_chars}」；GB 32100-2015只用" + _CODE_CHARS_ZH + "。",
        "{where}: the unified social credit code '{value}' contains '{bad_chars}'; GB 32100-2015 uses "
        + _CODE_CHARS_EN
        + " only.",
        f"18位，只含{_CODE_CHARS_ZH}",
        f"18 characters, {_CODE_CHARS_EN} only",
    ),
    "credit_code_check_character": (
        "{where}：统一社会信用代码「{value}」的第18位校验码应为「{expected_char}」而不是「{actual}」，请核对前17位是否抄错。"
        "若Excel把该列存为数值，15位以后的数字已被改写：请把该列设为文本后重新录入。",
        "{where}: the check character (18th) of the credit code '{value}' should be '{expected_char}', not '{actual}'; "
        "check the first 17 characters for a typo. If Excel stored the code as a number, the digits after the 15th "
        "were lost: format the column as text and enter the code again.",
        "第18位为按GB 32100-2015由前17位算出的校验码",
        "the 18th character is the GB 32100-2015 check character of the first 17",
    ),
    "duplicate_credit_code_year": (
        "{where}：统一社会信用代码{value}的{year}年度数据已在第{first_row}行出现；同一企业同一年度只能有一行。",
        "{where}: credit code {value} already has a {year} row (row {first_row}); one row per enterprise and year.",
        "每个（统一社会信用代码，年度）只出现一次",
        "each (credit code, year) pair once",
    ),
    "missing_required": (
        "{where}：「{header}」为{when_zh}必填项，不能为空。",
        "{where}: '{header}' is required{when_en} and is blank.",
        "{note_zh}",
        "{note_en}",
    ),
    "above_scale_without_value_added": (
        "{where}：本行是规上企业，必须填写工业增加值。若该企业实为规下，请把“是否规上”改为否。",
        "{where}: this row is an above-scale (规上) enterprise, so value added is required. If it is below scale, "
        "set 是否规上 to 否.",
        "规上企业的工业增加值（{unit_zh}）",
        "value added of an above-scale enterprise ({unit_en})",
    ),
    "non_numeric": (
        "{where}：「{value}」不是数字。请只填数字（单位：{unit_zh}），不要带单位、文字或说明。",
        "{where}: '{value}' is not a number. Write the number only (unit: {unit_en}), without units or words.",
        "数字，单位{unit_zh}",
        "a number in {unit_en}",
    ),
    "negative_value": (
        "{where}：「{header}」不能为负数，此处为{value}。",
        "{where}: '{header}' cannot be negative; it is {value}.",
        "0或正数（单位{unit_zh}）",
        "zero or a positive number ({unit_en})",
    ),
    "zero_land": (
        "{where}：用地面积必须大于0亩，此处为{value}。没有用地的企业不参加亩均评价，请核实或删去该行。",
        "{where}: land must be more than 0 亩; it is {value}. An enterprise without land is not evaluated per mu: "
        "check the figure or remove the row.",
        "大于0的亩数，最多4位小数",
        "more than 0 亩, up to 4 decimals",
    ),
    "too_many_decimals": (
        "{where}：「{value}」有{decimals}位小数，「{header}」以{unit_zh}填报时最多{max}位{why_zh}。",
        "{where}: '{value}' has {decimals} decimals; '{header}' in {unit_en} takes at most {max}{why_en}.",
        "最多{max}位小数（单位{unit_zh}）",
        "at most {max} decimals ({unit_en})",
    ),
    "unknown_town": (
        "{where}：「{value}」不是临海市的镇(街道)或开发区。"
        "请填全称、简称或代码，如 杜桥镇、杜桥 或 331082112（见模板“镇街”表）。",
        "{where}: '{value}' is not a town, subdistrict or development zone of Linhai. Write its full name, short name "
        "or code, e.g. 杜桥镇, 杜桥 or 331082112 (see the town list of the template).",
        "临海市19个镇(街道)或2个开发区之一",
        "one of Linhai's 19 towns/subdistricts or 2 development zones",
    ),
    "unknown_industry": (
        "{where}：「{value}」不是GB/T 4754-2017的制造业行业代码。"
        "应为大类C13–C43，或其下的中类、小类，如C27、C271、C2710（字母C可省略）。",
        "{where}: '{value}' is not a GB/T 4754-2017 manufacturing code. Write a division C13–C43 or a group or class "
        "within one, e.g. C27, C271, C2710 (the C may be left out).",
        "制造业大类C13–C43或其下的中类、小类",
        "a manufacturing division C13–C43, or a group or class within one",
    ),
    "invalid_year": (
        "{where}：年度「{value}」无效，应为{first}–{last}之间的四位整数。",
        "{where}: the year '{value}' is not valid; write a whole year from {first} to {last}.",
        "四位年份",
        "a four-digit year",
    ),
    "invalid_bool": (
        "{where}：「{value}」不是“是”或“否”。请填 是 或 否（也可填 {also}）。",
        "{where}: '{value}' is not yes/no. Write 是 or 否 (also accepted: {also}).",
        "是 或 否",
        "是 (yes) or 否 (no)",
    ),
    "unknown_veto": (
        "{where}：「{value}」不是一票否决事项。"
        "无则留空；有则填 重大安全事故、严重环境违法、数据造假 之一（只填一项）。",
        "{where}: '{value}' is not a veto. Leave blank if none; else write one of fatal_safety_accident, "
        "serious_environmental_violation, falsified_data (or 重大安全事故, 严重环境违法, 数据造假).",
        "空，或 重大安全事故 / 严重环境违法 / 数据造假",
        "blank, or one of the three veto codes",
    ),
    "unknown_tag": (
        "{where}：「{value}」中的「{tokens}」不是{clause}所列的企业标签。可填：{allowed_zh}"
        "（多个用“、”分隔；空＝不改变已有标签，单独填“无”＝清除）。",
        "{where}: '{tokens}' in '{value}' is not a tag of clause {clause}. Allowed: {allowed_en} (several separated "
        "by “、” or commas; blank keeps the enterprise's tags, 无 or none alone clears them).",
        "{clause}所列企业标签，多个用“、”分隔；或单独填“无”",
        "tags of clause {clause}, separated by “、” or commas; or 无 / none alone",
    ),
    # --- file and header ----------------------------------------------------------------
    "unknown_sheet": (
        "{where}：没有名为「{sheet}」的工作表；现有工作表：{sheets}。",
        "{where}: there is no sheet named '{sheet}'; the sheets are: {sheets}.",
        "现有工作表之一",
        "one of the sheets of the workbook",
    ),
    "unreadable_encoding": (
        "{where}：CSV文件既不是UTF-8也不是GBK/GB18030编码。请在Excel中另存为“CSV UTF-8(逗号分隔)”。",
        "{where}: the CSV file is neither UTF-8 nor GBK/GB18030. Save it from Excel as 'CSV UTF-8 (Comma delimited)'.",
        "UTF-8或GBK编码的CSV",
        "a UTF-8 or GBK encoded CSV",
    ),
    "no_known_headers": (
        "{where}：第一行没有可识别的表头。第一行应是表头（如 统一社会信用代码、企业名称、年度），表头上方不要有标题行。"
        "可用 tenglong template 生成模板。",
        "{where}: the first row has no known header. The first row must hold the headers (e.g. credit_code, name, "
        "year, or 统一社会信用代码, 企业名称, 年度), with no title row above. `tenglong template` writes a template.",
        "第一行为表头",
        "headers in the first row",
    ),
    "missing_column": (
        "{where}：缺少必需的列「{header}」。应有表头：{accepted}。",
        "{where}: the required column '{header}' is missing. Expected header: {accepted}.",
        "{accepted}",
        "{accepted}",
    ),
    "duplicate_column": (
        "{where}：「{header}」与{first}列是同一数据；每项数据只能有一列。",
        "{where}: '{header}' repeats column {first}; each field may appear once.",
        "每项数据一列",
        "one column per field",
    ),
    "mixed_header_language": (
        "{where}：表头「{header}」与本表其他表头语言不同；一个文件只能全用中文表头或全用英文表头。应写作「{accepted}」。",
        "{where}: the header '{header}' is in a different language from the others; use Chinese headers only or "
        "English headers only. Write it as '{accepted}'.",
        "{accepted}",
        "{accepted}",
    ),
    "missing_unit": (
        "{where}：表头「{header}」没有注明单位，金额可能差一万倍。请写成 {accepted}。",
        "{where}: the header '{header}' does not say its unit, and the two options differ 10,000-fold. "
        "Write {accepted}.",
        "{accepted}",
        "{accepted}",
    ),
    "unknown_unit": (
        "{where}：表头「{header}」中的单位「{unit}」无法识别。请写成 {accepted}。",
        "{where}: the unit '{unit}' in the header '{header}' is not recognised. Write {accepted}.",
        "{accepted}",
        "{accepted}",
    ),
    "ignored_column": (
        "{where}：「{header}」不是导入字段，该列已忽略。",
        "{where}: '{header}' is not an import field; the column is ignored.",
        "",
        "",
    ),
    # --- unreadable or refused files (sizes, zip and cell-extent bombs, a parse that died): the reader's guard
    # renders these itself (adapters/tabular/guard.py); they are listed here so that the catalogue is complete.
    **FILE_LIMITS,
}


class _Blank(dict):
    """Format mapping that leaves an unknown field empty instead of failing."""

    def __missing__(self, key: str) -> str:
        return ""


PARSER_FAILED = "无法读取工作簿："
"""How the reader's ``unreadable_file`` reason starts when the spreadsheet parser itself refused the file."""
NOT_A_WORKBOOK = (
    "{where}：文件不是有效的 Excel 文件（.xlsx）。请在 Excel 或 WPS 中打开后“另存为” Excel 工作簿 (*.xlsx) 再上传，"
    "或上传 CSV 文件。",
    "{where}: the file is not a valid Excel file (.xlsx). Open it in Excel or WPS, save it as an Excel Workbook "
    "(*.xlsx) and upload that, or upload a CSV file.",
    "Excel 工作簿（.xlsx、.xlsm）、Excel 97-2003 工作簿（.xls）或 CSV 文件",
    "an Excel workbook (.xlsx, .xlsm), an Excel 97-2003 workbook (.xls) or a CSV file",
)
"""The words for a file the parser refused (its own message, e.g. ``Could not find EOCD`` or ``Invalid OLE``, is
meaningless to the person who uploaded it)."""


def credit_code_fields(text: str) -> tuple[str, dict[str, Any]] | None:
    """What is wrong with a credit code: its problem code here and the fields that message needs (None: valid).

    >>> credit_code_fields("91331082MA2AB3CF7M")
    ('credit_code_check_character', {'expected_char': 'N', 'actual': 'M'})
    """
    reason = gb32100.problem(text)
    if reason is None:
        return None
    if reason == "length":
        return "credit_code_length", {"length": len(text)}
    if reason == "charset":
        return "credit_code_charset", {"bad_chars": "".join(dict.fromkeys(c for c in text if c not in gb32100.CHARSET))}
    return "credit_code_check_character", {"expected_char": gb32100.check_character(text[:17]), "actual": text[17]}


def render(code: str, fields: dict[str, Any]) -> tuple[str, str, str, str]:
    """``(message_zh, message_en, expected_zh, expected_en)`` of a problem code.

    >>> render("unreadable_file", {"where": "a.xlsx", "reason_zh": "无法读取工作簿：Could not find EOCD"})[0][:31]
    'a.xlsx：文件不是有效的 Excel 文件（.xlsx）。'
    """
    values = _Blank({k: ("" if v is None else v) for k, v in fields.items()})
    texts = MESSAGES[code]
    if code == "unreadable_file" and str(values["reason_zh"]).startswith(PARSER_FAILED):
        texts = NOT_A_WORKBOOK
    return tuple(t.format_map(values) for t in texts)  # type: ignore[return-value]
