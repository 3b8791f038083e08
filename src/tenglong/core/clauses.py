"""The policy's clauses: ids, verbatim text, English rendering, validity.

Ids are stable: ``2.1``…``2.15`` for 二(一)…(十五), ``3`` for 三、其他, and in the
annex ``A.2`` (主要目标), ``A.3.1``…``A.3.16`` (重点任务), ``A.4.1``…``A.4.3``
(工作要求). A clause without its own window is in force with the policy
(2022-07-16 – 2023-12-31); 2.1 and 2.2 were extended only to 2023-06-30.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .periods import Window


@dataclass(frozen=True)
class Clause:
    """One clause of 临政发〔2022〕22号."""

    id: str
    part: str
    number_zh: str
    heading_zh: str
    heading_en: str
    group_zh: str
    group_en: str
    text_zh: str
    text_en: str
    window: Window
    responsible_units: tuple[str, ...] = ()
    note_zh: str | None = None
    note_en: str | None = None

    @property
    def anchor(self) -> str:
        """HTML anchor, e.g. ``c2-10``."""
        return "c" + self.id.replace(".", "-")

    def title_zh(self) -> str:
        """E.g. ``（十）加大技术改造支持力度``."""
        return f"{self.number_zh}{self.heading_zh}"

    def quote(self, fragment: str) -> str:
        """``fragment`` checked to be verbatim clause text.

        Raises:
            KeyError: when the fragment is not in the clause (a rule cites a
                sentence that the policy does not contain).
        """
        if fragment not in self.text_zh and fragment not in self.heading_zh:
            raise KeyError(f"{fragment!r} is not in clause {self.id}")
        return fragment


@dataclass(frozen=True)
class Policy:
    """The policy document: metadata plus clauses in document order."""

    id: str
    number: str
    title_zh: str
    title_en: str
    window: Window
    source_url: str
    clauses: tuple[Clause, ...]
    meta: dict = field(default_factory=dict, compare=False)

    def __getitem__(self, clause_id: str) -> Clause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(f"no clause {clause_id!r} in {self.number}")

    def __contains__(self, clause_id: str) -> bool:
        return any(c.id == clause_id for c in self.clauses)

    def ids(self) -> list[str]:
        """Clause ids in document order."""
        return [c.id for c in self.clauses]
