"""Import enterprise-year data: read, validate everything, then the canonical frame or every error.

Habit 9 (validate everything, then change anything): the whole file is checked
before any row is used, and every problem is reported at once, each with its cell
(``企业数据!C12 (年度)``), the bad text, what is expected and an example, in Chinese
and English. A file with any error yields no frame, unless ``skip_invalid`` asks
for the valid rows and a list of the skipped ones.

Checks are polars expressions over whole columns; Python runs only over the
distinct values of the code-like columns (towns, industries, yes/no, vetoes, the
A.3.16 tags — a few hundred at most) and over the bad cells, to write their messages.

The optional 企业标签 column (A.3.16) becomes the canonical ``tags``: the keys joined by
commas (``listed,little_giant``), ``""`` for a cell saying 无 / none (the tags are
cleared), null for an empty cell or an absent column (the tags are left as they are).

How numbers are read (exact to the 分): a cell's text is split by a regular
expression into sign, digits, fraction and exponent. The unit (万元 = 10**4 元) only
moves the decimal point, so ``1.234567`` 万元 becomes the text ``1234567e-2`` 元 and
is parsed once by polars into the nearest double — the same double that
``round(12345.67, 2)`` gives, and no float multiplication is involved. Decimals are
counted on the text, in the natural unit (more than 2 for money is
``too_many_decimals``). Text with more than 15 significant digits is first rounded
to 15, the precision Excel stores and shows: calamine renders the double nearest
12345678901.23 as ``12345678901.229999542``, which is 12345678901.23 again.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from ...adapters.tabular.columns import (
    ABOVE_SCALE,
    ABOVE_SCALE_WORDS,
    ALWAYS,
    BOOL_WORDS,
    BY_KEY,
    NO_VETO,
    SPECS,
    VETOES,
    HeaderIssue,
    HeaderMap,
    Unit,
    map_headers,
)
from ...adapters.tabular.guard import REFUSALS, SheetLimits
from ...adapters.tabular.reader import ROW, RawTable, ReadError, read_table
from ...core import credit_code as gb32100
from ...core.errors import Problem
from ...core.reference_data import normalise_industry, normalise_town
from ..enterprises import tags as enterprise_tags
from .messages import credit_code_fields, render

YEARS = (2000, 2100)
"""Accepted data years (inclusive)."""

_NUMBER = r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$"
_GROUPED = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$"  # 1,234,567.89 — thousands separators only
_EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_UP)
_VETO_WORDS = {**{c: c for c in VETOES}, **{zh: c for c, zh in VETOES.items()}, **{w: "" for w in NO_VETO}}


@dataclass(frozen=True)
class ImportSource:
    """Where the data came from and how it was read."""

    path: str
    kind: str
    sheet: str | None
    sheets: tuple[str, ...] = ()
    language: str | None = None
    units: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None


@dataclass(frozen=True)
class SkippedRow:
    """A row left out by ``skip_invalid``, with the codes of its errors."""

    row: int
    codes: tuple[str, ...]


@dataclass
class ImportResult:
    """The outcome of :func:`load_enterprise_years`.

    Attributes:
        ok: a frame was produced (no error, or ``skip_invalid`` and only cell errors).
        frame: the canonical frame (:data:`~tenglong.adapters.tabular.columns.CANONICAL_SCHEMA`),
            or ``None``.
        problems: every error, file and header problems first, then by row and column.
        warnings: ignored columns.
        skipped: rows left out by ``skip_invalid``.
        rows_read: non-blank data rows in the file.
        source: file, sheet, header language and the unit of each column.
        timings: seconds spent reading and validating.
    """

    ok: bool
    frame: pl.DataFrame | None
    problems: list[Problem]
    warnings: list[Problem]
    skipped: list[SkippedRow]
    rows_read: int
    source: ImportSource
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rows_valid(self) -> int:
        """Rows in the frame (0 when there is none)."""
        return 0 if self.frame is None else self.frame.height

    def errors_by_code(self) -> dict[str, int]:
        """How many errors of each code, most frequent first."""
        return dict(Counter(p.code for p in self.problems).most_common())

    def report_rows(self) -> list[dict[str, Any]]:
        """One flat dict per error, then per warning, for tables and the XLSX report."""
        rows = []
        for level, items in (("error", self.problems), ("warning", self.warnings)):
            for p in items:
                ctx = p.context
                rows.append(
                    {
                        "level": level,
                        "code": p.code,
                        "where": p.where,
                        "sheet": ctx.get("sheet"),
                        "row": ctx.get("row"),
                        "column": ctx.get("column"),
                        "header": ctx.get("header"),
                        "value": p.value,
                        "expected_zh": p.expected_zh,
                        "expected_en": p.expected_en,
                        "example": p.example,
                        "message_zh": p.message_zh,
                        "message_en": p.message_en,
                    }
                )
        return rows


def load_enterprise_years(
    path: str | Path, *, sheet: str | None = None, skip_invalid: bool = False, limits: SheetLimits | None = None
) -> ImportResult:
    """Read and validate an enterprise-year XLSX or CSV file.

    A file the reader's guard refuses (too large, a zip or cell-extent bomb, damaged; see
    ``adapters/tabular/guard.py``) or whose sandboxed parse dies is, like any other file problem, a
    result with one problem — never an exception.

    Args:
        path: the file (.xlsx or .csv; Chinese or English headers).
        sheet: the sheet to read; default: 企业数据 / 企业 / 数据 / data, else the first.
        skip_invalid: use the valid rows and list the skipped ones, instead of
            refusing the whole file. File and header problems still refuse it.
        limits: the bounds of the file (default: the settings' ``TENGLONG_SHEET_*``).

    Returns:
        The result; ``result.frame`` is the canonical frame when ``result.ok``.

    Example:
        >>> result = load_enterprise_years("企业数据.xlsx")  # doctest: +SKIP
        >>> result.ok, result.errors_by_code()  # doctest: +SKIP
        (False, {'unknown_town': 2, 'missing_required': 1})
    """
    start = time.perf_counter()
    try:
        table = read_table(path, sheet, limits)
    except ReadError as exc:
        where = Path(path).name
        fields = {"where": where, **{k: ", ".join(v) if isinstance(v, list) else v for k, v in exc.detail.items()}}
        problem = _problem(exc.code, where, None, fields, "", {"sheet": None, "row": None})
        return ImportResult(False, None, [problem], [], [], 0, ImportSource(str(path), "", sheet))
    except REFUSALS as exc:  # the guard's or the sandbox's refusal: already one located, bilingual problem
        problems = [replace(p, context={"sheet": None, "row": None, **p.context}) for p in exc.problems]
        return ImportResult(False, None, problems, [], [], 0, ImportSource(str(path), "", sheet))
    read_done = time.perf_counter()
    hmap = map_headers(list(table.headers))
    problems = [_header_problem(issue, table, hmap) for issue in hmap.issues]
    warnings = [_header_problem(HeaderIssue("ignored_column", i), table, hmap) for i in hmap.ignored]
    usable = {
        k: (f"c{pos}", unit) for k, (pos, unit) in hmap.columns.items() if unit is not None or not BY_KEY[k].units
    }
    parsed = _parse(table.cells, usable)
    cell_problems = _cell_problems(parsed, table, hmap, list(usable))
    problems += cell_problems
    source = ImportSource(
        str(path),
        table.kind,
        table.sheet,
        table.sheets,
        hmap.language,
        {k: u.zh for k, (_, u) in usable.items() if u is not None},
        table.encoding,
    )
    frame, skipped = None, []
    structural = len(problems) > len(cell_problems)
    if not structural and (skip_invalid or not cell_problems):
        frame = _canonical(parsed, usable)
        if cell_problems:
            bad: dict[int, list[str]] = {}
            for p in cell_problems:
                bad.setdefault(p.context["row"], []).append(p.code)
            skipped = [SkippedRow(r, tuple(dict.fromkeys(c))) for r, c in sorted(bad.items())]
            frame = frame.filter(~parsed[ROW].is_in(list(bad)))
    timings = {"read": read_done - start, "validate": time.perf_counter() - read_done}
    return ImportResult(frame is not None, frame, problems, warnings, skipped, table.cells.height, source, timings)


# --- parsing ---------------------------------------------------------------------------


def _clean(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _excel_precision(text: pl.Series) -> pl.Series:
    """Round numeric text with more than 15 significant digits to 15 (rare rows only)."""
    digits = text.str.replace_all(r"[eE].*$|[^0-9]", "").str.strip_chars("0")
    long = (digits.str.len_chars() > 15).fill_null(False) & text.str.contains(_NUMBER).fill_null(False)
    if not long.any():
        return text
    index = long.arg_true()
    fixed = [str(_EXCEL_DIGITS.create_decimal(t)) for t in text.gather(index).to_list()]
    return text.scatter(index, fixed)


def _parse(cells: pl.DataFrame, usable: dict[str, tuple[str, Unit | None]]) -> pl.DataFrame:
    """Values (``key``) and error codes (``key#e``) of every usable column, plus raw text (``key#raw``)."""
    texts = cells.select(
        ROW,
        *[_clean(pl.col(c)).alias(k) for k, (c, _) in usable.items()],
        *[pl.col(c).alias(f"{k}#raw") for k, (c, _) in usable.items()],
    )
    numeric = [k for k in usable if BY_KEY[k].kind in ("number", "integer", "year")]
    texts = texts.with_columns(*[_excel_precision(texts[k]) for k in numeric]).with_columns(
        *[
            pl.when(pl.col(k).str.contains(_GROUPED))
            .then(pl.col(k).str.replace_all(",", ""))
            .otherwise(pl.col(k))
            .str.extract_groups(_NUMBER)
            .alias(f"{k}#p")
            for k in numeric
        ]
    )
    exprs: list[pl.Expr] = []
    for key, (_, unit) in usable.items():
        spec = BY_KEY[key]
        if spec.kind in ("number", "integer", "year"):
            exprs += _number(key, unit.shift if unit else 0)
    out = texts.with_columns(exprs)
    columns: list[pl.Series] = []
    for key in usable:
        spec = BY_KEY[key]
        blank = "missing_required" if spec.required == ALWAYS else None
        if spec.kind in ("number", "integer", "year"):
            columns += _number_checks(out, key, blank)
        elif spec.kind == "credit_code":
            columns += _credit_code(out[key])
        elif spec.kind == "tags":
            columns += _tags(out[key])
        elif spec.kind == "text":
            columns += out.select(
                pl.col(key), pl.when(pl.col(key).is_null()).then(pl.lit(blank, pl.String)).alias(f"{key}#e")
            ).get_columns()
        else:
            columns += _mapped(out[key], key, blank)
    out = out.select(ROW, *[f"{k}#raw" for k in usable], *columns)
    return _cross_row_checks(out, usable)


def _number(key: str, shift: int) -> list[pl.Expr]:
    """Value in the natural unit and decimal count, from the regex parts of ``key``."""
    parts = pl.col(f"{key}#p")
    sign, whole = parts.struct.field("1"), parts.struct.field("2").fill_null("")
    fraction = parts.struct.field("3").fill_null("")
    exponent = parts.struct.field("4").cast(pl.Int64, strict=False)
    digits = whole + fraction
    significant = digits.str.strip_chars_start("0")
    zero = significant == ""
    trailing = significant.str.len_chars() - significant.str.strip_chars_end("0").str.len_chars()
    scale = exponent.fill_null(0) + shift - fraction.str.len_chars().cast(pl.Int64)
    value = (
        pl.when(zero)
        .then(pl.lit(0.0))
        .otherwise(pl.concat_str(sign, digits, pl.lit("e"), scale.cast(pl.String)).cast(pl.Float64, strict=False))
    )
    parsed = (
        sign.is_not_null()
        & (digits.str.len_chars() > 0)
        & (exponent.is_not_null() | parts.struct.field("4").is_null())
        & value.is_finite()
    )
    decimals = pl.when(zero).then(0).otherwise(pl.max_horizontal(pl.lit(0), -(scale + trailing)))
    return [
        value.alias(f"{key}#v"),
        decimals.alias(f"{key}#d"),
        parsed.fill_null(False).alias(f"{key}#ok"),
        ((sign == "-") & ~zero).fill_null(False).alias(f"{key}#neg"),
    ]


def _number_checks(out: pl.DataFrame, key: str, blank: str | None) -> list[pl.Series]:
    spec = BY_KEY[key]
    text, value = pl.col(key), pl.col(f"{key}#v")
    if spec.kind == "year":
        bad = ~pl.col(f"{key}#ok") | (pl.col(f"{key}#d") > 0) | ~value.is_between(*YEARS)
        error = pl.when(text.is_null()).then(pl.lit(blank)).when(bad).then(pl.lit("invalid_year"))
        return out.select(
            pl.when(error.otherwise(None).is_null()).then(value).cast(pl.Int32).alias(key),
            error.otherwise(None).alias(f"{key}#e"),
        ).get_columns()
    error = (
        pl.when(text.is_null())
        .then(pl.lit(blank))
        .when(~pl.col(f"{key}#ok"))
        .then(pl.lit("non_numeric"))
        .when(pl.col(f"{key}#neg"))
        .then(pl.lit("negative_value"))
        .when(pl.lit(spec.positive) & (value == 0))
        .then(pl.lit("zero_land"))
        .when(pl.col(f"{key}#d") > (spec.max_decimals if spec.max_decimals is not None else 10**6))
        .then(pl.lit("too_many_decimals"))
        .otherwise(None)
    )
    filled = pl.when(text.is_null()).then(pl.lit(spec.default, pl.Float64)).otherwise(value)
    return out.select(
        pl.when(error.is_null()).then(filled).cast(spec.dtype).alias(key), error.alias(f"{key}#e")
    ).get_columns()


def _credit_code(text: pl.Series) -> list[pl.Series]:
    upper = text.str.to_uppercase()
    # A fixed-width '<U19' array lets credit_code.problems work without a Python loop; longer text is a length error.
    reasons = pl.Series(
        gb32100.problems(upper.fill_null("").str.slice(0, 19).to_numpy().astype("<U19")), dtype=pl.String
    )
    error = pl.select(
        pl.when(upper.is_null())
        .then(pl.lit("missing_required"))
        .when(reasons != "")
        .then(pl.lit("credit_code_") + reasons)
        .otherwise(None)
    ).to_series()
    return [upper.alias(text.name), error.alias(f"{text.name}#e")]


def _map_value(key: str, text: str) -> object:
    """The canonical value of a code-like cell; ``None`` when the text is not accepted."""
    folded = text.casefold()
    if key == "town":
        return normalise_town(text) or normalise_town(text.removesuffix(".0"))
    if key == "industry":  # the code before the first space: the template offers "C2710 化学药品原料药制造"
        token = text.split()[0]
        return normalise_industry(re.sub(r"^(\d+)\.0+$", r"\1", token))
    if key == "veto":
        return _VETO_WORDS.get(folded)
    words = ABOVE_SCALE_WORDS if key == "above_scale" else BOOL_WORDS
    return words.get(folded.removesuffix(".0"))


def _mapped(text: pl.Series, key: str, blank: str | None) -> list[pl.Series]:
    """Map the distinct values through :func:`_map_value` (no loop over rows)."""
    spec = BY_KEY[key]
    distinct = text.drop_nulls().unique().to_list()
    table = {t: _map_value(key, t) for t in distinct}
    value = text.replace_strict(table, default=None, return_dtype=spec.dtype)
    code = {"town": "unknown_town", "industry": "unknown_industry", "veto": "unknown_veto"}.get(key, "invalid_bool")
    error = pl.select(
        pl.when(text.is_null()).then(pl.lit(blank, pl.String)).when(value.is_null()).then(pl.lit(code)).otherwise(None)
    ).to_series()
    if spec.default is not None:
        value = pl.select(pl.when(text.is_null()).then(pl.lit(spec.default, spec.dtype)).otherwise(value)).to_series()
    return [value.alias(key), error.alias(f"{key}#e")]


def _tags(text: pl.Series) -> list[pl.Series]:
    """The 企业标签 cells as stored keys (``listed,little_giant``; ``""`` for 无), through the distinct texts only."""
    parsed = {t: enterprise_tags.parse_tags(t) for t in text.drop_nulls().unique().to_list()}
    table = {t: ",".join(keys) for t, (keys, problems) in parsed.items() if not problems}
    bad = {t: "unknown_tag" for t, (_, problems) in parsed.items() if problems}
    value = text.replace_strict(table, default=None, return_dtype=pl.String)
    error = text.replace_strict(bad, default=None, return_dtype=pl.String)
    return [value.alias(text.name), error.alias(f"{text.name}#e")]


def _cross_row_checks(out: pl.DataFrame, usable: dict) -> pl.DataFrame:
    """规上-only requirements and duplicate (credit_code, year) pairs."""
    if "above_scale" in usable:
        above = pl.col("above_scale").fill_null(False)
        out = out.with_columns(
            [
                pl.when(pl.col(f"{s.key}#e").is_null() & pl.col(s.key).is_null() & above)
                .then(pl.lit("above_scale_without_value_added" if s.key == "value_added" else "missing_required"))
                .otherwise(pl.col(f"{s.key}#e"))
                .alias(f"{s.key}#e")
                for s in SPECS
                if s.required == ABOVE_SCALE and s.key in usable
            ]
        )
    out = out.with_columns(pl.lit(None, pl.Int64).alias("_first"))
    if "credit_code" in usable and "year" in usable:
        keyed = out.filter(pl.col("credit_code#e").is_null() & pl.col("year#e").is_null())
        first = keyed.select(ROW, pl.col(ROW).first().over("credit_code", "year").alias("_dup"))
        out = (
            out.join(first, on=ROW, how="left", maintain_order="left")
            .with_columns(pl.when(pl.col("_dup") != pl.col(ROW)).then(pl.col("_dup")).alias("_first"))
            .drop("_dup")
        )
        out = out.with_columns(
            pl.when(pl.col("_first").is_not_null())
            .then(pl.lit("duplicate_credit_code_year"))
            .otherwise(pl.col("credit_code#e"))
            .alias("credit_code#e")
        )
    return out


def _canonical(parsed: pl.DataFrame, usable: dict) -> pl.DataFrame:
    columns = [
        pl.col(s.key).cast(s.dtype) if s.key in usable else pl.lit(s.default, s.dtype).alias(s.key) for s in SPECS
    ]
    return parsed.select(columns)


# --- problems --------------------------------------------------------------------------


def _where(table: RawTable, letter: str | None, row: int | None, header: str | None) -> str:
    """``企业数据!C12 (年度)``; the sheet is quoted as Excel does when it has spaces or symbols."""
    sheet = table.sheet if re.fullmatch(r"[\w.]+", table.sheet) else "'" + table.sheet.replace("'", "''") + "'"
    cell = f"{sheet}!{letter or ''}{row or ''}"
    return f"{cell} ({header})" if header else cell


def _problem(code: str, where: str, value: Any, fields: dict, example: str, context: dict) -> Problem:
    message_zh, message_en, expected_zh, expected_en = render(code, {"where": where, "value": value, **fields})
    return Problem(code, where, value, expected_zh, expected_en, example, message_zh, message_en, context)


def _header_problem(issue: HeaderIssue, table: RawTable, hmap: HeaderMap) -> Problem:
    lang = hmap.language or "zh"
    spec = BY_KEY.get(issue.key) if issue.key else None
    if issue.position is None:
        header, letter = (spec.header(lang) if spec else None), None
        row_ref = f"{table.header_row}:{table.header_row}"
        where = _where(table, None, None, None) + row_ref
    else:
        header, letter = table.headers[issue.position], table.letters[issue.position]
        where = _where(table, letter, table.header_row, header)
    fields: dict[str, Any] = {"header": header or "(空表头 / blank header)", "unit": issue.detail.get("unit", "")}
    if spec is not None:
        fields["accepted"] = (
            spec.header(lang) if issue.code == "mixed_header_language" else " / ".join(spec.accepted_headers(lang))
        )
    if "first" in issue.detail:
        fields["first"] = table.letters[issue.detail["first"]]
    context = {
        "sheet": table.sheet,
        "row": table.header_row if letter else None,
        "column": letter,
        "header": header,
        "key": issue.key,
    }
    value = header if issue.position is not None else None  # a missing column has no bad cell
    return _problem(issue.code, where, value, fields, spec.header(lang) if spec else "", context)


def _cell_problems(parsed: pl.DataFrame, table: RawTable, hmap: HeaderMap, keys: list[str]) -> list[Problem]:
    """One problem per bad cell, in row order then column order."""
    year = pl.col("year").cast(pl.String) if "year" in keys else pl.lit(None, pl.String)
    frames = [
        parsed.filter(pl.col(f"{k}#e").is_not_null()).select(
            pl.col(ROW).alias("row"),
            pl.lit(k).alias("key"),
            pl.lit(hmap.columns[k][0]).alias("position"),
            pl.col(f"{k}#e").alias("code"),
            pl.col(f"{k}#raw").alias("raw"),
            pl.col("_first"),
            year.alias("year"),
        )
        for k in keys
    ]
    if not frames:
        return []
    bad = pl.concat(frames).sort("row", "position")
    return [_cell_problem(r, table, hmap) for r in bad.iter_rows(named=True)]


def _written_decimals(text: str) -> int:
    try:
        return max(0, -int(Decimal(text.strip().replace(",", "")).normalize().as_tuple().exponent))
    except (InvalidOperation, ValueError):
        return 0


def _cell_problem(r: dict, table: RawTable, hmap: HeaderMap) -> Problem:
    key, code, value = r["key"], r["code"], r["raw"]
    spec = BY_KEY[key]
    position, unit = hmap.columns[key]
    header, letter = table.headers[position], table.letters[position]
    text = (value or "").strip().upper()
    fields: dict[str, Any] = {"header": header, "unit_zh": unit.zh if unit else "", "unit_en": unit.en if unit else ""}
    example = spec.example_in(unit)
    if code.startswith("credit_code_"):
        fields.update((credit_code_fields(text) or (code, {}))[1])
    elif code == "duplicate_credit_code_year":
        fields.update(first_row=r["_first"], year=r["year"])
        example = ""
    elif code == "missing_required":
        above = spec.required == ABOVE_SCALE
        fields.update(
            when_zh="规上企业的" if above else "",
            note_zh=spec.note_zh,
            note_en=spec.note_en,
            when_en=" for an above-scale (规上) enterprise" if above else "",
        )
    elif code == "too_many_decimals":
        money = spec.max_decimals == 2
        fields.update(
            decimals=_written_decimals(value or ""),
            max=spec.max_decimals + (unit.shift if unit else 0),
            why_zh="（金额精确到分）" if money else "（人数为整数）" if spec.kind == "integer" else "",
            why_en=" (money is exact to the fen)"
            if money
            else " (a head count is whole)"
            if spec.kind == "integer"
            else "",
        )
    elif code == "invalid_year":
        fields.update(first=YEARS[0], last=YEARS[1])
    elif code == "invalid_bool":
        fields["also"] = "规上/规下、1/0、true/false" if key == "above_scale" else "1/0、true/false、yes/no"
        example = "是"
    elif code == "unknown_veto":
        example = "数据造假"
    elif code == "unknown_tag":
        _, bad = enterprise_tags.parse_tags(value)
        fields.update(
            tokens="、".join(str(p.value) for p in bad),
            clause=enterprise_tags.CLAUSE,
            allowed_zh=enterprise_tags.allowed("zh"),
            allowed_en=enterprise_tags.allowed("en"),
        )
    context = {"sheet": table.sheet, "row": r["row"], "column": letter, "header": header, "key": key}
    return _problem(code, _where(table, letter, r["row"], header), value, fields, example, context)
