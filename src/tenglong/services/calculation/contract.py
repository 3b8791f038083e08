"""The calculation contract, shared by ``tenglong calculate`` and ``POST /api/v1/calculate``.

One code path: JSON text (or an already-parsed document) in, JSON document out.
Numbers are parsed as ``Decimal`` so nothing is rounded on the way in; money
comes back as JSON numbers with at most two decimals.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ...core import loader
from ...core.engine import calculate as run
from ...core.errors import InvalidInput, Problem
from ...core.parameters import ParameterSet
from ...core.situation import read_situation


def parse_json(text: str | bytes) -> Any:
    """Parse request JSON with exact decimals.

    Raises:
        InvalidInput: for text that is not JSON, naming line and column.
    """
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            [
                Problem(
                    "invalid_json",
                    f"line {exc.lineno}, column {exc.colno}",
                    exc.msg,
                    "合法的 JSON 文本",
                    "valid JSON text",
                    '{"as_of": "2023-03-01"}',
                    f"第 {exc.lineno} 行第 {exc.colno} 列不是合法的 JSON：{exc.msg}",
                    f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                )
            ]
        ) from None


def calculate(doc: Any, explain: bool = True, lang: str = "zh", params: ParameterSet | None = None) -> dict[str, Any]:
    """Answer a calculation request (see ``core/situation.py`` for the shape).

    Args:
        doc: the parsed request (numbers as int/Decimal).
        explain: include ``explanations``.
        lang: ``zh`` or ``en`` for the explanation lines.
        params: parameters to use (a reform); default the policy's own.

    Raises:
        InvalidInput: listing every problem; nothing is computed then.
    """
    situation = read_situation(doc, loader.variables())
    return run(
        situation, params or loader.parameters(), loader.policy(), loader.variables(), explain=explain, lang=lang
    )


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
