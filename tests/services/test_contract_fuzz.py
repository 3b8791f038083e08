"""Fuzzing the calculation contract: random JSON documents, random bytes and mutated real requests, fed to the one
strict reader and ``calculate`` (and, for a few, to ``tenglong calculate``). Every outcome is an answer that can be
sent, or an ``InvalidInput``/``PolicyError`` with located, bilingual problems — never another exception — and the
memory stays bounded.

The documents are built as JSON *text* (``to_json``), so they may hold what Python's ``json.dumps`` never writes:
keys given twice, numbers of thousands of digits or with exponents like ``1e999999``, ``NaN`` and ``Infinity``, lone
surrogates. Keys are drawn from the real variables of each entity kind (``loader.variables()``), the other kinds'
variables, and random text; values are of every JSON kind, by year (``{"2023": …}``) or not, with huge, negative,
fractional and NaN-like strings among them. The reader's own fuzzing of spreadsheets is in
tests/adapters/test_sheet_guard.py.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenglong.core import loader
from tenglong.core.errors import InvalidInput, PolicyError
from tenglong.core.variables import ENTITY_KINDS, Variable
from tenglong.services.calculation.contract import calculate, dumps, parse_json

EXAMPLE = Path(__file__).parents[2] / "examples" / "linhai-2023.json"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CLI_FUZZ = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
GROWTH_MB = 300
"""Most the test process's peak RSS may grow over all the examples of a test (the whole contract of the 3-project
example needs about 10 MB; a million projects, which no example comes near, about 550 MB)."""
CLI_MEMORY = 512 * 1024 * 1024
"""Address space of ``tenglong calculate`` in the CLI examples (it needs about 150 MB for the example request)."""
SECONDS = 10
"""Longest one example may take (most take a few milliseconds)."""
MUTATIONS = b'{}[]",:0123456789.eE-+ntfaN\\u '
"""Bytes a mutation writes: JSON's structure, digits and the letters of its literals."""

VARIABLES = {kind: [v.name for v in loader.variables().of(kind)] for kind in ENTITY_KINDS}
ALL_NAMES = sorted({n for names in VARIABLES.values() for n in names})


class Raw(str):
    """JSON text written as is (a number literal, NaN, Infinity)."""


class Pairs(list):
    """An object as its (key, value) pairs, so a key may appear twice."""


def to_json(value: Any) -> str:
    """JSON text of ``value`` (``Raw`` as is, ``Pairs`` keeping repeated keys, strings with lone surrogates kept)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{to_json(str(k))}: {to_json(v)}" for k, v in value) + "}"
    if isinstance(value, dict):
        return to_json(Pairs(value.items()))
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # \ud800 escapes for lone surrogates
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "NaN"
    return json.dumps(value)


NUMBER_TEXT = st.one_of(
    st.integers().map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),  # Python refuses int() past 4,300 digits
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-99, 99), st.integers(-(10**7), 10**7)),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "-0", "0.0000000000000000000000000000001", "1E400", "1e-400"]),
).map(Raw)
WEIRD_TEXT = st.sampled_from(
    ["NaN", "nan", "Infinity", "-inf", "1e999999", "9" * 5000, "", " ", "2023-02-30", "0000-00-00", "9999-12-31",
     "2023-03-01T08:00:00", "\ud800", "\x00", "１２３", "1,000", "1_000", "0x10", "true", "null", "A", "E1", "P1"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    NUMBER_TEXT,
    WEIRD_TEXT,
    st.text(max_size=20),
    st.dates().map(str),
)
YEARS = st.one_of(st.integers(1900, 2100).map(str), st.integers().map(str), st.text(max_size=6))


def _nest(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)


NESTED = st.recursive(SCALARS, _nest, max_leaves=8)


def values() -> st.SearchStrategy:
    """A value of a variable: a scalar, by year, or any nesting of lists and objects."""
    return st.one_of(SCALARS, st.dictionaries(YEARS, SCALARS, max_size=4), NESTED)


def plausible(v: Variable) -> st.SearchStrategy:
    """A value a client might really send for ``v``: of its type and near its bounds, or null (requested)."""
    t = v.type
    if t.base in ("decimal", "int", "list_decimal"):
        low, high = Decimal(t.minimum or "0"), Decimal(t.maximum or "1000000")
        number = st.one_of(
            st.decimals(min_value=low, max_value=high, places=t.scale if t.base != "int" else 0),
            st.sampled_from([low, high, high + 1, low - 1, Decimal("0.001"), Decimal("1e30")]),
        ).map(lambda d: Raw(str(d)))
        return st.lists(number, max_size=4) if t.base == "list_decimal" else number
    one = {
        "bool": st.booleans(),
        "enum": st.sampled_from([*v.values, "Z", ""]),
        "date": st.one_of(st.dates(dt.date(2021, 1, 1), dt.date(2025, 12, 31)).map(str), st.sampled_from(EDGES)),
        "ref": ENTITY_IDS,
    }
    return one.get(t.base, st.text(max_size=20))


EDGES = ["2022-07-15", "2022-07-16", "2023-12-31", "2024-01-01", "2023-02-29", "2023-13-01"]
"""Dates around the policy's validity window (2022-07-16 to 2023-12-31), and two that do not exist."""


def variable_value(v: Variable, hostile: bool) -> st.SearchStrategy:
    """A plausible value, one or by year (null for an output: requested); when ``hostile``, anything at all."""
    one = st.one_of(*([plausible(v)] if v.is_input else []), *([st.none()] if v.is_output else []))
    by_year = st.dictionaries(st.sampled_from(["2021", "2022", "2023", "2024"]), one, max_size=3)
    return st.one_of(one, one, by_year, *([values(), st.none(), plausible(v)] if hostile else []))


def entity(kind: str, hostile: bool) -> st.SearchStrategy:
    """An entity of ``kind``: its own variables with plausible values; when ``hostile``, others' and random keys
    too, any values, sometimes a key twice, or no object at all."""
    own = st.sampled_from(loader.variables().of(kind)).flatmap(
        lambda v: st.tuples(st.just(v.name), variable_value(v, hostile))
    )
    if not hostile:
        return st.lists(own, max_size=10, unique_by=lambda kv: kv[0]).map(Pairs)
    other = st.tuples(st.one_of(st.sampled_from(ALL_NAMES), st.text(max_size=12)), values())
    pairs = st.lists(st.one_of(own, own, own, other), max_size=10).map(Pairs)
    return st.one_of(pairs, pairs, pairs, SCALARS)


IDS = st.sampled_from(["E1", "E2", "P1", "P2", "T1", "M1", "S1", "2023"])
ENTITY_IDS = st.one_of(IDS, st.text(max_size=8))


def document(hostile: bool) -> st.SearchStrategy:
    """A request: plausible (a real date, the entity kinds, each with its own variables), or ``hostile`` (anything
    may be missing, of the wrong kind, refused by the reader)."""
    kinds = {
        kind: st.lists(
            st.tuples(ENTITY_IDS if hostile else IDS, entity(kind, hostile)),
            max_size=4,
            unique_by=None if hostile else (lambda kv: kv[0]),
        ).map(Pairs)
        for kind in ENTITY_KINDS
    }
    if hostile:
        kinds = {kind: st.one_of(strategy, SCALARS) for kind, strategy in kinds.items()}
        optional = {"as_of": st.one_of(st.dates().map(str), SCALARS), "period": st.one_of(YEARS, SCALARS)}
        return st.fixed_dictionaries({}, optional={**optional, **kinds, "extra": values()}).map(
            lambda d: Pairs(d.items())
        )
    as_of = st.one_of(st.dates(dt.date(2022, 1, 1), dt.date(2024, 6, 30)).map(str), st.sampled_from(EDGES))
    period = st.sampled_from(["2022", "2023", "2024"])
    return st.fixed_dictionaries({"as_of": as_of}, optional={"period": period, **kinds}).map(lambda d: Pairs(d.items()))


DOCUMENT_TEXT = st.one_of(*[document(False).map(to_json)] * 2, document(True).map(to_json), NESTED.map(to_json))


def _problems_are_sendable(exc: PolicyError) -> None:
    problems = getattr(exc, "problems", None)
    assert problems, f"{type(exc).__name__} without problems: {exc.message_en}"
    for p in problems:
        assert p.code and p.where is not None and p.message_zh and p.message_en, p
    json.dumps([p.as_dict() for p in problems], ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
    assert exc.message_zh and exc.message_en


def outcome(text: str | bytes) -> str:
    """Read and answer ``text``: "answer", or the code of a refusal with its problems; anything else fails."""
    start = time.perf_counter()
    try:
        result = calculate(parse_json(text))
        answer = dumps(result, indent=None)
        assert json.loads(answer, parse_constant=lambda c: pytest.fail(f"{c} in an answer")) is not None
        code = "answer"
    except (InvalidInput, PolicyError) as exc:  # InvalidJson is an InvalidInput
        _problems_are_sendable(exc)
        code = exc.code
    assert time.perf_counter() - start < SECONDS
    return code


@pytest.fixture
def rss_start() -> int:
    """The test process's peak RSS (KiB) before the examples run."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _grown_mb(start: int) -> float:
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) / 1024


@FUZZ
@given(text=DOCUMENT_TEXT)
def test_calculate_when_document_is_random_answers_or_refuses_with_problems(rss_start, text):
    """A random document of real and random variables and every kind of value: an answer or located problems."""
    outcome(text)
    outcome(text.encode("utf-8", "surrogatepass"))  # the same as bytes: the web's way (lone surrogates: not UTF-8)
    assert _grown_mb(rss_start) < GROWTH_MB


@FUZZ
@given(data=st.binary(max_size=2048))
def test_calculate_when_bytes_are_random_refuses_with_problems(rss_start, data):
    """Random bytes: refused with problems (bytes that happen to be JSON may also be answered)."""
    outcome(data)
    assert _grown_mb(rss_start) < GROWTH_MB


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(list(MUTATIONS))), max_size=6),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_calculate_when_real_request_is_mutated_answers_or_refuses_with_problems(rss_start, edits, cut):
    """The full example request (every entity kind) with bytes changed and maybe cut short: an answer or problems."""
    data = bytearray(EXAMPLE.read_bytes())
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    outcome(bytes(data))
    assert _grown_mb(rss_start) < GROWTH_MB


@FUZZ
@given(
    kind=st.sampled_from(ENTITY_KINDS),
    name=st.sampled_from(ALL_NAMES),
    value=values(),
    year_keyed=st.booleans(),
)
def test_calculate_when_one_variable_of_the_example_is_replaced_answers_or_refuses(
    rss_start, kind, name, value, year_keyed
):
    """The example request with one variable of its first entity of a kind set to any value: every rule sees it."""
    doc = json.loads(EXAMPLE.read_text(), parse_float=Decimal)
    first = next(iter(doc[kind].values()))
    first[name] = {"2023": value} if year_keyed else value
    outcome(to_json(_raw_decimals(doc)))
    assert _grown_mb(rss_start) < GROWTH_MB


def _raw_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return Raw(str(value))
    if isinstance(value, dict) and not isinstance(value, Pairs):
        return {k: _raw_decimals(v) for k, v in value.items()}
    if isinstance(value, list) and not isinstance(value, Pairs):
        return [_raw_decimals(v) for v in value]
    return value


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY, CLI_MEMORY))


@CLI_FUZZ
@given(text=DOCUMENT_TEXT)
def test_calculate_command_when_document_is_random_exits_0_or_2_without_traceback(text):
    """``tenglong calculate -`` in a process limited to 512 MB of address space: JSON on stdout (exit 0), or nothing
    on stdout and the problems on stderr (exit 2); never a traceback, never killed for memory."""
    tenglong = Path(sys.executable).with_name("tenglong")
    done = subprocess.run(
        [tenglong, "calculate", "-", "--compact"],
        input=text.encode("utf-8", "surrogatepass"),
        capture_output=True,
        preexec_fn=_limit_memory,
        timeout=60,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr and "MemoryError" not in stderr, stderr[-2000:]
    assert done.returncode in (0, 2), (done.returncode, stderr[-2000:])
    if done.returncode == 0:
        assert json.loads(done.stdout) is not None and not stderr
    else:
        assert not done.stdout and "错误 / Error:" in stderr
