"""The calculation contract, shared by ``tenglong calculate`` and ``POST /api/v1/calculate``.

One code path: JSON text (or an already-parsed document) in, JSON document out.
Numbers are parsed as ``Decimal`` so nothing is rounded on the way in; money
comes back as JSON numbers with at most two decimals.

``parse_json`` is the one strict JSON reader of tenglong (the API's bodies, the
CLI, the calculator's JSON files). Beyond JSON's grammar it refuses what no
request needs and what would make the platform fail later:

* bytes that are not UTF-8, and ``NaN``/``Infinity``/``-Infinity`` (not JSON):
  ``InvalidJson``, which the API answers with 400 ``invalid_json``;
* nesting deeper than ``MAX_DEPTH``, a number with more than ``MAX_DIGITS``
  digits or an exponent beyond ±``MAX_EXPONENT``, a lone UTF-16 surrogate
  (``"\\ud800"``) in a key or a string, and a key given twice in one object:
  ``InvalidInput`` (422), each problem with its path.

``calculate`` refuses a request with more than ``max_entities`` entities before
reading them, lists at most ``LISTED`` problems (and counts the rest), and finds
missing inputs with whole-array operations before the engine runs.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import numpy as np

from ...core import loader
from ...core.engine import _missing_inputs as engine_missing_inputs
from ...core.engine import calculate as run
from ...core.errors import InvalidInput, Problem
from ...core.frame import Frame
from ...core.parameters import ParameterSet
from ...core.rules import BY_OUTPUT, Need
from ...core.situation import LISTED, ProblemList, Situation, read_situation, safe_text
from ...core.variables import ENTITY_KINDS, Registry

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays (a calculation request needs 5: document, kind, entity, variable, year)."""
MAX_DIGITS = 30
"""Most digits in one number, integer part and decimals together. The largest amount the contract takes
(1,000,000,000,000.00 元) has 15; no money, area or ratio comes near 30. Python refuses integers of 4,300 digits."""
MAX_EXPONENT = 30
"""Largest exponent of a number in ``1.5e7`` form, either sign (``1e999999`` overflows ``Decimal`` arithmetic)."""
MAX_ENTITIES = 200_000
"""Entities (all kinds together) of one request unless the caller says otherwise: 80 times the demo county's
2,561 enterprises, and room for ``tenglong bench calculate --n 100000`` (125,000). ``TENGLONG_MAX_CALCULATE_ENTITIES``
sets the API's, ``tenglong calculate --max-entities`` the command's."""

_BOM = "\ufeff"
_NUMBER = re.compile(r"-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?")
_LONE_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F]"
)
"""A ``\\uD800``–``\\uDFFF`` escape that is not half of a pair (a hint: the parsed strings are then checked)."""
_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class InvalidJson(InvalidInput):
    """The text is not JSON (not UTF-8, broken grammar, ``NaN`` or ``Infinity``): nothing in it could be read.

    An ``InvalidInput`` (the CLI exits 2 with every problem); the web answers 400 ``invalid_json``.
    """

    code = "invalid_json"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.message_zh = "请求不是合法的 JSON，未作任何处理。"
        self.message_en = "The request is not valid JSON; nothing was done."
        self.args = (self.message_en,)


def parse_json(text: str | bytes) -> Any:
    """Parse request JSON strictly, with exact decimals (see the module's docstring for what is refused).

    Raises:
        InvalidJson: for bytes that are not UTF-8, text that is not JSON (naming line and column), NaN or Infinity.
        InvalidInput: for JSON this platform does not take (too deep, absurd numbers, lone surrogates,
            duplicate keys), each problem with its path.

    >>> parse_json(b'{"a": 1.10, "b": [1, "x"]}')
    {'a': Decimal('1.10'), 'b': [1, 'x']}
    >>> parse_json('{"a": 1, "a": 2}')
    Traceback (most recent call last):
    tenglong.core.errors.InvalidInput: The JSON of the request has 1 error(s); nothing was done.
    """
    if isinstance(text, str):
        raw = text.encode("utf-8", "surrogatepass")  # the depth check reads bytes; raw surrogates are found below
        raw_surrogates = len(raw) != len(text.encode("utf-8", "ignore"))
    else:
        raw = bytes(text)
        text = _decode(raw)
        raw_surrogates = False
    reader = _Reader()
    try:
        doc = json.loads(
            text.removeprefix(_BOM),
            parse_float=reader.decimal,
            parse_int=reader.integer,
            parse_constant=reader.constant,
            object_pairs_hook=reader.object,
        )
    except json.JSONDecodeError as exc:
        raise InvalidJson([_not_json(exc)]) from None
    except RecursionError:  # nested far beyond MAX_DEPTH: the parser's own stack ran out
        raise _refused_json(InvalidInput([_too_deep()])) from None
    if _deeper_than(raw, MAX_DEPTH):
        raise _refused_json(InvalidInput([_too_deep()]))
    strings = raw_surrogates or (b"\\u" in raw and _LONE_SURROGATE_ESCAPE.search(raw) is not None)
    if reader.flagged or strings:
        problems = _inspect(doc, strings)
        if len(problems):
            error = problems.error()
            if any(p.code == "not_a_number" for p in error.problems):
                raise InvalidJson(error.problems)
            raise _refused_json(error)
    return doc


def _refused_json(error: InvalidInput) -> InvalidInput:
    """``error`` saying what it is about: the JSON read, before any calculation (422)."""
    n = len(error.problems) - (1 if error.more else 0) + error.more
    error.message_zh = f"请求的 JSON 有 {n} 处错误，未作任何处理。"
    error.message_en = f"The JSON of the request has {n} error(s); nothing was done."
    error.args = (error.message_en,)
    return error


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = " ".join(f"0x{b:02x}" for b in raw[exc.start : min(exc.end, exc.start + 4)])
        raise InvalidJson(
            [
                Problem(
                    "not_utf8",
                    f"line {line}, byte {column}",
                    bad,
                    "UTF-8 编码的 JSON 文本",
                    "JSON text encoded in UTF-8",
                    '{"as_of": "2023-03-01"}',
                    f"第 {line} 行第 {column} 字节（{bad}）不是 UTF-8 编码；请以 UTF-8 保存文件后重新提交。",
                    f"Line {line}, byte {column} ({bad}) is not UTF-8; save the file as UTF-8 and submit it again.",
                )
            ]
        ) from None


def _not_json(exc: json.JSONDecodeError) -> Problem:
    return Problem(
        "invalid_json",
        f"line {exc.lineno}, column {exc.colno}",
        exc.msg,
        "合法的 JSON 文本",
        "valid JSON text",
        '{"as_of": "2023-03-01"}',
        f"第 {exc.lineno} 行第 {exc.colno} 列不是合法的 JSON：{exc.msg}",
        f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
    )


def _too_deep() -> Problem:
    return Problem(
        "too_deep",
        "$",
        f"> {MAX_DEPTH}",
        f"对象和数组至多嵌套 {MAX_DEPTH} 层",
        f"objects and arrays nested at most {MAX_DEPTH} deep",
        '{"projects": {"P1": {"total_investment": 15000000}}}',
        f"JSON 的对象和数组嵌套超过 {MAX_DEPTH} 层，未作任何处理。",
        f"The JSON nests objects and arrays more than {MAX_DEPTH} deep; nothing was done.",
    )


def _deeper_than(raw: bytes, limit: int) -> bool:
    r"""Whether valid JSON ``raw`` nests objects and arrays more than ``limit`` deep, with whole-array operations.

    Escaped backslashes and quotes go first, then every byte but quotes and brackets; a bracket after an even
    number of quotes is outside the strings, and the running sum of +1 (opening) and -1 (closing) is the depth.

    >>> _deeper_than(b'{"a": [[1], {"b\\\\": "[[[\\"["}]}', 3), _deeper_than(b'{"a": [[1], {"b": "[[["}]}', 2)
    (False, True)
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    s = np.frombuffer(raw.translate(None, _STRUCTURE), dtype=np.uint8)
    outside = (np.cumsum(s == ord('"'), dtype=np.int32) & 1) == 0
    return bool(np.cumsum(_STEP[s] * outside, dtype=np.int32).max(initial=0) > limit)


class _Refused:
    """A value the reader will not take, kept in place until ``_inspect`` reports it with its path."""

    __slots__ = ("code", "text")

    def __init__(self, code: str, text: str) -> None:
        self.code = code
        self.text = text


class _Repeated(dict):
    """An object in which some key appeared more than once (``twice``: key → times)."""

    twice: dict[str, int]


class _Reader:
    """The hooks of ``json.loads``: numbers checked as they are read, duplicate keys noticed, anything odd flagged."""

    def __init__(self) -> None:
        self.flagged = False

    def decimal(self, text: str) -> Decimal | _Refused:
        if len(text) <= MAX_DIGITS and "e" not in text and "E" not in text:
            return Decimal(text)
        m = _NUMBER.fullmatch(text)
        digits = len(m[1]) + len(m[2] or "") if m else len(text)
        exponent = m[3] if m else None
        if digits > MAX_DIGITS or (exponent is not None and (len(exponent) > 4 or abs(int(exponent)) > MAX_EXPONENT)):
            self.flagged = True
            return _Refused("number_too_long", text)
        return Decimal(text)

    def integer(self, text: str) -> int | _Refused:
        if len(text) > MAX_DIGITS and len(text.lstrip("-")) > MAX_DIGITS:
            self.flagged = True
            return _Refused("number_too_long", text)
        return int(text)

    def constant(self, text: str) -> _Refused:
        self.flagged = True
        return _Refused("not_a_number", text)

    def object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) == len(pairs):
            return d
        self.flagged = True
        repeated = _Repeated(d)
        repeated.twice = {k: n for k, n in Counter(k for k, _ in pairs).items() if n > 1}
        return repeated


def _inspect(doc: Any, strings: bool) -> ProblemList:
    """Every refused value, repeated key and (when ``strings``) lone surrogate of ``doc``, with its path."""
    problems = ProblemList()
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            if isinstance(value, _Repeated):
                for key, times in value.twice.items():
                    problems.add(_repeated, _child(where, key), key, times)
            items = list(value.items())
            for key, item in reversed(items):
                if strings and _has_surrogate(key):
                    problems.add(_surrogate, _child(where, key), key)
                stack.append((item, _child(where, key)))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{k}]") for k, item in reversed(list(enumerate(value))))
        elif isinstance(value, _Refused):
            problems.add(_refused, where, value)
        elif strings and isinstance(value, str) and _has_surrogate(value):
            problems.add(_surrogate, where, value)
    return problems


def _child(where: str, key: str) -> str:
    key = safe_text(key)
    return key if where == "$" else f"{where}.{key}"


def _has_surrogate(text: str) -> bool:
    return len(text.encode("utf-8", "surrogatepass")) != len(text.encode("utf-8", "ignore"))


def _repeated(where: str, key: str, times: int) -> Problem:
    key = safe_text(key)
    zh_times, en_times = ("两次", "twice") if times == 2 else (f" {times} 次", f"{times} times")
    return Problem(
        "duplicate_key",
        where,
        key,
        "同一对象中每个键只出现一次",
        "each key once in one object",
        '{"P1": {...}, "P2": {...}}',
        f'{where}：键 "{key}" 在同一对象中出现{zh_times}，无法确定取哪一个值。',
        f'{where}: the key "{key}" appears {en_times} in one object; which value is meant cannot be told.',
    )


def _surrogate(where: str, text: str) -> Problem:
    shown = safe_text(text)[:80]
    return Problem(
        "lone_surrogate",
        where,
        shown,
        "完整的 Unicode 字符（UTF-16 代理项须成对出现）",
        "whole Unicode characters (UTF-16 surrogates only in pairs)",
        '"E1"',
        f"{where} 含有不成对的 UTF-16 代理项（{shown}），不是有效的文本。",
        f"{where} holds a lone UTF-16 surrogate ({shown}), which is not valid text.",
    )


def _refused(where: str, value: _Refused) -> Problem:
    text = value.text
    if value.code == "not_a_number":
        return Problem(
            "not_a_number",
            where,
            text,
            "有限的数值（JSON 没有 NaN 和 Infinity）",
            "a finite number (JSON has no NaN or Infinity)",
            "0",
            f"{where} 的值 {text} 不是 JSON 数值。",
            f"{where}: {text} is not a JSON number.",
        )
    shown = text if len(text) <= 40 else f"{text[:20]}…"
    size = "" if len(text) <= 40 else f"（共 {len(text):,} 个字符）"
    size_en = "" if len(text) <= 40 else f" ({len(text):,} characters)"
    return Problem(
        "number_too_long",
        where,
        shown,
        f"至多 {MAX_DIGITS} 位数字、指数在 ±{MAX_EXPONENT} 以内的数值",
        f"a number of at most {MAX_DIGITS} digits, with an exponent within ±{MAX_EXPONENT}",
        "8000000.00",
        f"{where} 的数值 {shown}{size} 位数或指数过大，任何金额、面积或比率都不会这样大。",
        f"{where}: the number {shown}{size_en} has too many digits or too large an exponent for any amount, "
        "area or ratio.",
    )


def calculate(
    doc: Any,
    explain: bool = True,
    lang: str = "zh",
    params: ParameterSet | None = None,
    max_entities: int | None = MAX_ENTITIES,
) -> dict[str, Any]:
    """Answer a calculation request (see ``core/situation.py`` for the shape).

    Args:
        doc: the parsed request (numbers as int/Decimal).
        explain: include ``explanations``.
        lang: ``zh`` or ``en`` for the explanation lines.
        params: parameters to use (a reform); default the policy's own.
        max_entities: refuse a request with more entities (all kinds together); ``None``: no limit.

    Raises:
        InvalidInput: listing every problem (the first ``LISTED`` in full, then how many more); nothing is
            computed then.
    """
    registry = loader.variables()
    situation = read_situation(doc, registry, max_entities)
    check_inputs(situation, registry)
    return run(situation, params or loader.parameters(), loader.policy(), registry, explain=explain, lang=lang)


def check_inputs(situation: Situation, registry: Registry, listed: int = LISTED) -> None:
    """Refuse a situation whose requested outputs lack inputs they need, listing at most ``listed`` gaps.

    The engine finds the same gaps (``core.engine._missing_inputs``) but builds a problem for each, which for a
    million incomplete projects is three million problems. Here the gaps are found with whole-array operations
    and counted; the engine then writes the problems of the first ``listed`` only, from the rows they are on.

    Raises:
        InvalidInput: the first ``listed`` missing inputs, in the engine's order, and the count of the rest.
    """
    period = situation.period
    refs = {k: t.index for k, t in situation.tables.items()}
    requests = {  # as the engine's, for the outputs only (inputs are never requested)
        k: {v: situation.table(k).requests(v) for v in situation.table(k).columns if registry[(k, v)].is_output}
        for k in ENTITY_KINDS
    }
    years = {period} | {y for vs in requests.values() for pairs in vs.values() for _, y in pairs if y is not None}
    listed_problems: list[Problem] = []
    total = 0
    for year in sorted(years):
        frames = {k: Frame(situation.table(k), registry, year, period, refs) for k in ENTITY_KINDS}
        wanted = {
            (k, v)
            for k, vs in requests.items()
            for v, pairs in vs.items()
            if any((y or period) == year for _, y in pairs)
        }
        shown: dict[tuple[str, str], set[int]] = {}
        for kind, var_name in sorted(wanted):
            rule = BY_OUTPUT.get((kind, var_name))
            if rule is None:
                continue
            rows = np.array(sorted({r for r, y in requests[kind][var_name] if (y or period) == year}), dtype=np.int64)
            for need in rule.needs.get(var_name, ()):
                bad = rows[_gaps(frames, kind, rows, need)]
                room = max(0, listed - total)
                if room:
                    shown.setdefault((kind, var_name), set()).update(bad[:room].tolist())
                total += len(bad)
        if shown and len(listed_problems) < listed:
            # The engine's problems for the rows shown only: a subsequence of its full list that starts with the
            # first `listed` of them, in the same order.
            only = {
                k: {v: [(r, y) for r, y in pairs if r in shown.get((k, v), ())] for v, pairs in vs.items()}
                for k, vs in requests.items()
            }
            listed_problems += engine_missing_inputs(frames, only, set(shown), year, period)
    if total:
        raise InvalidInput(listed_problems[:listed], more=total - min(total, listed))


def _gaps(frames: dict[str, Frame], kind: str, rows: np.ndarray, need: Need) -> np.ndarray:
    """For each of ``rows``: whether ``need`` applies to it and is absent (as ``core.engine._missing_inputs``)."""
    f = frames[kind]
    if need.on == "enterprise":
        target = frames["enterprises"]
        if not len(rows) or target.n == 0:
            return np.zeros(len(rows), dtype=bool)
        ent = f.get("enterprise")[rows]
        applies = ent >= 0
        t_rows = np.where(applies, ent, 0)
    else:
        target = f
        applies = np.ones(len(rows), dtype=bool)
        t_rows = rows
    for cond_var, cond_val in need.when:
        values = target.get(cond_var)[t_rows]
        applies &= np.isin(values, cond_val if isinstance(cond_val, tuple) else (cond_val,))
    present = np.zeros(len(rows), dtype=bool)
    for alt in need.var.split("|"):
        present |= target.present(alt)[t_rows]
    return applies & ~present


def dumps(result: dict[str, Any], indent: int | None = 2) -> str:
    """JSON text of an answer (UTF-8 Chinese kept as is; decimals as numbers)."""
    return json.dumps(result, ensure_ascii=False, indent=indent, default=_default)


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        # Inputs passed validation, so they have ≤ 15 significant digits and the
        # float's shortest repr is the exact decimal.
        return float(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
