"""The variables of the calculation contract: names, entity kinds, types, units.

``policy/variables.yaml`` is the single source; ``tenglong variables`` prints it
and the web API serves it. A variable's *type* fixes how JSON values are read
(exactly, as scaled integers), their bounds, and how results are written back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENTITY_KINDS = ("enterprises", "projects", "land_transfers", "mergers", "land_sales", "county_years")


@dataclass(frozen=True)
class VarType:
    """How values of one type are read and bounded.

    ``scale`` is the number of decimals kept exactly (money 2 = 分). ``minimum``
    and ``maximum`` are inclusive bounds that also keep the integer arithmetic
    of the rules far from int64 overflow.
    """

    name: str
    base: str  # decimal | int | bool | enum | date | ref | list_decimal | violations
    scale: int = 0
    unit: str = ""
    minimum: str | None = None
    maximum: str | None = None
    example: str = ""
    zh: str = ""
    en: str = ""


TYPES: dict[str, VarType] = {
    t.name: t
    for t in [
        VarType(
            "money",
            "decimal",
            2,
            "元",
            "0",
            "1000000000000",
            "8000000.00",
            "金额（元，至多两位小数）",
            "amount in yuan, at most 2 decimals",
        ),
        VarType(
            "signed_ratio",
            "decimal",
            6,
            "ratio",
            "-1000",
            "1000",
            "0.12",
            "比率（0.12 表示 12%，至多六位小数）",
            "ratio (0.12 = 12%, at most 6 decimals)",
        ),
        VarType(
            "share",
            "decimal",
            6,
            "ratio",
            "0",
            "1",
            "0.25",
            "比例（0 至 1，至多六位小数）",
            "share between 0 and 1, at most 6 decimals",
        ),
        VarType(
            "plot_ratio",
            "decimal",
            4,
            "",
            "0",
            "100",
            "1.2",
            "容积率（0 至 100，至多四位小数）",
            "plot ratio between 0 and 100, at most 4 decimals",
        ),
        VarType(
            "area_m2",
            "decimal",
            2,
            "m²",
            "0",
            "100000000",
            "6000",
            "面积（平方米，至多两位小数）",
            "area in m², at most 2 decimals",
        ),
        VarType(
            "area_mu",
            "decimal",
            4,
            "亩",
            "0",
            "1000000",
            "40",
            "面积（亩，至多四位小数）",
            "area in mu, at most 4 decimals",
        ),
        VarType(
            "tax_per_mu",
            "decimal",
            4,
            "万元/亩",
            "0",
            "100000",
            "20.3",
            "亩均税收（万元/亩，至多四位小数）",
            "tax per mu in 10k yuan/mu, at most 4 decimals",
        ),
        VarType(
            "years",
            "decimal",
            2,
            "年",
            "0",
            "100",
            "37.5",
            "年限（年，至多两位小数）",
            "term in years, at most 2 decimals",
        ),
        VarType(
            "years_list",
            "list_decimal",
            2,
            "年",
            "0",
            "100",
            "[37.5, 42]",
            "剩余年限列表（至少两宗）",
            "list of remaining terms, two or more",
        ),
        VarType("count", "int", 0, "", "0", "1000000000", "3", "非负整数", "a non-negative integer"),
        VarType(
            "land_grade",
            "int",
            0,
            "等",
            "1",
            "15",
            "10",
            "土地等别（1 至 15 的整数）",
            "land grade, an integer 1 to 15",
        ),
        VarType("bool", "bool", 0, "", None, None, "true", "true 或 false", "true or false"),
        VarType("enum", "enum", 0, "", None, None, "", "下列取值之一", "one of the listed values"),
        VarType("date", "date", 0, "", None, None, "2023-03-01", "日期 YYYY-MM-DD", "a date YYYY-MM-DD"),
        VarType("ref", "ref", 0, "", None, None, "E1", "所引用实体的编号", "the id of the referenced entity"),
        VarType("text", "text", 0, "", None, None, "临海市示例机械有限公司", "文本", "text"),
        VarType(
            "violations",
            "violations",
            0,
            "",
            None,
            None,
            "",
            "违规条件列表（输出）",
            "list of violated conditions (output)",
        ),
    ]
}


@dataclass(frozen=True)
class Plausible:
    """The range a value of one variable can sensibly take, beyond its type's bounds (inclusive, at the type's scale).

    A value outside is refused as ``implausible_value``: most often a unit slip (``5`` for 5 % read as 500 %,
    元 typed into a 万元 field). ``assumption`` marks a range that is our reading, not the policy's.
    """

    minimum: str | None
    maximum: str | None
    assumption: bool
    note_zh: str
    note_en: str


@dataclass(frozen=True)
class Relation:
    """A relation two inputs of one entity must keep, checked by the contract reader (``core/situation.py``).

    ``left`` (the sum of these variables) ``op`` ``right``: ``<=`` (at most), or ``~=`` (the same quantity in two
    units: ``left = right × factor`` within ``tolerance``, a share of the larger). The problem is named ``code`` and
    put at the first of ``left``; ``assumption`` marks a relation that is our reading.
    """

    code: str
    entity: str
    left: tuple[str, ...]
    op: str
    right: str
    clause: str | None
    assumption: bool
    zh: str
    en: str
    factor: str = "1"
    tolerance: str = "0"


@dataclass(frozen=True)
class Variable:
    """One variable of the contract."""

    name: str
    entity: str
    type: VarType
    role: str  # input | output | both
    clause: str | None
    zh: str
    en: str
    values: tuple[str, ...] = ()
    default: Any = None
    has_default: bool = False
    default_from: str | None = None
    ref: str | None = None
    note_zh: str | None = None
    note_en: str | None = None
    plausible: Plausible | None = None
    relations: tuple[Relation, ...] = ()
    input_unit: str | None = (
        None  # the unit a form offers first (万元 for investment amounts; the contract stays in 元)
    )

    @property
    def unit(self) -> str:
        """Unit text of the variable."""
        return self.type.unit

    @property
    def is_input(self) -> bool:
        """Accepts a value from the user."""
        return self.role in ("input", "both")

    @property
    def is_output(self) -> bool:
        """May be requested with ``null``."""
        return self.role in ("output", "both")

    def expected(self) -> tuple[str, str]:
        """What a valid value looks like, zh and en."""
        zh, en = self.type.zh, self.type.en
        if self.values:
            listed = " | ".join(self.values)
            zh, en = f"{zh}：{listed}", f"{en}: {listed}"
        return zh, en

    def example(self) -> str:
        """An example valid value, as JSON text."""
        if self.values:
            return f'"{self.values[0]}"'
        return self.type.example


class Registry:
    """All variables, by entity kind and name."""

    def __init__(self, variables: list[Variable]) -> None:
        self._v = {(v.entity, v.name): v for v in variables}

    def get(self, entity: str, name: str) -> Variable | None:
        """The variable, or ``None`` if unknown."""
        return self._v.get((entity, name))

    def __getitem__(self, key: tuple[str, str]) -> Variable:
        return self._v[key]

    def of(self, entity: str) -> list[Variable]:
        """Variables of one entity kind, in file order."""
        return [v for (e, _), v in self._v.items() if e == entity]

    def __iter__(self):
        return iter(self._v.values())

    def relations(self, entity: str | None = None) -> list[Relation]:
        """The relations between inputs (of one entity kind), in file order."""
        return [r for v in self._v.values() if entity in (None, v.entity) for r in v.relations]


def build_variable(entity: str, name: str, spec: dict[str, Any]) -> Variable:
    """Make a ``Variable`` from its YAML entry (the loader validates shape)."""
    return Variable(
        name=name,
        entity=entity,
        type=TYPES[spec["type"]],
        role=spec.get("role", "input"),
        clause=str(spec["clause"]) if spec.get("clause") is not None else None,
        zh=spec["zh"],
        en=spec["en"],
        values=tuple(spec.get("values", ())),
        default=spec.get("default"),
        has_default="default" in spec,
        default_from=spec.get("default_from"),
        ref=spec.get("ref"),
        note_zh=spec.get("note_zh"),
        note_en=spec.get("note_en"),
        plausible=_plausible(spec["plausible"]) if spec.get("plausible") else None,
        relations=tuple(_relation(entity, name, r) for r in spec.get("relations") or ()),
        input_unit=spec.get("input_unit"),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _plausible(spec: dict[str, Any]) -> Plausible:
    return Plausible(
        _text(spec.get("min")),
        _text(spec.get("max")),
        bool(spec.get("assumption", False)),
        spec.get("note_zh", ""),
        spec.get("note_en", ""),
    )


def _relation(entity: str, name: str, spec: dict[str, Any]) -> Relation:
    return Relation(
        code=spec["code"],
        entity=entity,
        left=(name, *spec.get("plus", ())),
        op=spec["op"],
        right=spec["right"],
        clause=_text(spec.get("clause")),
        assumption=bool(spec.get("assumption", False)),
        zh=spec["zh"],
        en=spec["en"],
        factor=str(spec.get("factor", "1")),
        tolerance=str(spec.get("tolerance", "0")),
    )
