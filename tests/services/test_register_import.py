"""Importing a register kept in Excel (清单, A.3; issue 10 item 7): the template of any kind, every row checked before
anything is written (all or nothing), each kind of row problem located at its row and column, the importer's scope,
duplicates in the file and in the register, states of the loop (closed ones too), the rules of a register of projects
(A.3.15), the audit event, the roles that may import, the size limit and the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from types import SimpleNamespace

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log, enterprises, register_entries, users
from tenglong.cli import main
from tenglong.core.errors import Forbidden, InvalidInput, TooLarge
from tenglong.registers.roles import Actor
from tenglong.services.accounts.auth import actor_of
from tenglong.services.campaign import imports, views
from tenglong.services.campaign.common import KINDS
from tenglong.services.enterprises import projects

from ..web.conftest import make_platform

HCLE, ZERO, TWO_HIGH = "high_consumption_low_efficiency", "zero_land", "two_high_project"
DAY = dt.date(2023, 6, 1)
CLEAR = {"属明令淘汰项目": "否", "属限制类项目": "否", "企业近期列入当地搬迁改造": "否"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A private demo county (entries are imported into it), the demo accounts as actors and the firms by town."""
    tmp = tmp_path_factory.mktemp("register_import")
    url = f"sqlite:///{tmp / 'import.db'}"
    p = make_platform(url, upload_dir=str(tmp / "u"), attachment_dir=str(tmp / "f"))
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
        firms = conn.execute(select(enterprises.c.credit_code, enterprises.c.town).order_by(enterprises.c.credit_code))
        firms = firms.all()
    town = actors["town"].town
    own = [f.credit_code for f in firms if f.town == town]
    foreign = [f.credit_code for f in firms if f.town != town]
    yield SimpleNamespace(p=p, a=actors, url=url, own=own, foreign=foreign, tmp=tmp)
    p.engine.dispose()


def _free(site, kind: str, n: int, own: bool = True) -> list[str]:
    """``n`` firms of the town (or of other towns) that have no entry of ``kind`` at all."""
    with site.p.uow.read() as conn:
        taken = set(
            conn.execute(select(register_entries.c.credit_code).where(register_entries.c.kind == kind)).scalars()
        )
    found = [c for c in (site.own if own else site.foreign) if c not in taken]
    return found[:n]


def _book(header: list[str], rows: list[list]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _count(site, kind: str) -> int:
    with site.p.uow.read() as conn:
        return conn.execute(
            select(func.count()).select_from(register_entries).where(register_entries.c.kind == kind)
        ).scalar_one()


def _refused(site, actor: str | Actor, kind: str, data: bytes) -> list:
    before = _count(site, kind)
    with pytest.raises(InvalidInput) as exc:
        who = site.a[actor] if isinstance(actor, str) else actor
        imports.import_register(site.p.uow, who, kind, data, "清单.xlsx", day=DAY)
    assert _count(site, kind) == before, "nothing is written when a row is wrong"
    assert "未导入任何条目" in exc.value.message_zh and "nothing was imported" in exc.value.message_en
    return exc.value.problems


def _by_row(problems: list) -> dict[int | None, set[str]]:
    out: dict[int | None, set[str]] = {}
    for p in problems:
        out.setdefault(p.context["row"], set()).add(p.code)
    return out


@pytest.mark.parametrize("key", list(KINDS))
def test_template_when_downloaded_has_every_column_of_the_kind_with_units_and_notes(key):
    """Every kind (whatever its file): the sheet to fill in with the firm, project (projects only), category,
    state, unit, dates, reason and each field with its unit; the notes explain every column with an example."""
    kind = KINDS[key]
    book = openpyxl.load_workbook(io.BytesIO(imports.template(key)))
    assert book.sheetnames[1:] == ["选项 lists", "填写说明 notes"]
    header = [c.value for c in book.worksheets[0][1]]
    assert header[0] == "统一社会信用代码" and "理由" in header and "状态" in header and "责任单位" in header
    assert ("项目编号" in header) == (kind.subject == "project")
    assert (kind.deadline.zh in header) if kind.deadline else True
    for f in kind.fields.values():
        want = f"{f.zh}(是/否)" if f.type.base == "bool" else f"{f.zh}({f.unit})" if f.unit else f.zh
        assert want in header, want
    notes = [r[0] for r in book["填写说明 notes"].iter_rows(values_only=True) if r and r[0]]
    assert set(header) <= set(notes)


def test_template_when_filled_in_and_imported_reads_back_its_own_headers(site):
    """The template's own sheet, filled in, imports (round trip of the headers with units and 是/否)."""
    code = _free(site, ZERO, 1)[0]
    project = projects.create_project(
        site.p.uow, site.a["admin"], code, "零增地模板项目", "2023-03-01", {"total_investment": 15000000}
    )
    book = openpyxl.load_workbook(io.BytesIO(imports.template(ZERO)))
    ws = book.worksheets[0]
    header = [c.value for c in ws[1]]
    values = {
        "统一社会信用代码": code,
        "项目编号": project,
        "类别": "扩建",
        "理由": "技改排摸",
        "项目总投资(元)": 15000000,
        **{f"{k}(是/否)": v for k, v in CLEAR.items()},
    }
    ws.append([values.get(h) for h in header])
    out = io.BytesIO()
    book.save(out)
    done = imports.import_register(site.p.uow, site.a["town"], ZERO, out.getvalue(), "零增地.xlsx", day=DAY)
    assert done["created"] == 1 and done["ignored_columns"] == []
    e = views.entry(site.p.uow, site.a["admin"], done["entries"][0], DAY)
    assert e["status"] == "listed" and e["project_id"] == project and e["category"] == "extend"
    assert e["fields"]["investment"] == "15000000.00" and e["fields"]["eliminated_by_order"] is False
    assert [m["key"] for m in e["marks"]] == ["key_project"]


def test_import_when_one_row_is_wrong_writes_nothing_and_lists_every_problem_with_its_row(site):
    """Two good rows and a bad one: nothing is created; each problem names its row, column, value, expected and
    example, in Chinese and English."""
    good, other = _free(site, HCLE, 2)
    data = _book(
        ["统一社会信用代码", "类别", "理由", "实际用地面积(亩)"],
        [[good, "改造提升", "实地排摸", 10], [other, "兼并重组", "实地排摸", "12.5"], [good[:-1], "改造", None, "abc"]],
    )
    problems = _refused(site, "town", HCLE, data)
    assert _by_row(problems) == {4: {"credit_code_length", "invalid_choice", "missing_input", "invalid_field"}}
    bad_category = next(p for p in problems if p.code == "invalid_choice")
    assert bad_category.context == {"sheet": "Sheet", "row": 4, "column": "B", "header": "类别", "key": "category"}
    assert (
        bad_category.value == "改造" and "改造提升" in bad_category.expected_zh and bad_category.example == "改造提升"
    )
    assert bad_category.message_zh.startswith("Sheet!B4 (类别)：") and bad_category.message_en.startswith("Sheet!B4")
    land = next(p for p in problems if p.code == "invalid_field")
    assert land.value == "abc" and land.context["column"] == "D" and "亩" in land.expected_zh


def test_import_when_rows_are_wrong_in_every_way_names_each_problem(site):
    """Each kind of row problem once: a bad code, an unknown code, unknown category, state and unit, bad and future
    dates, a missing or too long reason, a bad number, a missing required field."""
    a, b, c = _free(site, "low_scattered_disorderly", 3)
    flags = {"无证无照(是/否)": "是", "无安全保障(是/否)": "否", "无合法场所(是/否)": "否", "无环保措施(是/否)": "否"}
    header = ["统一社会信用代码", "类别", "状态", "责任单位", "列入日期", "整治期限", "理由", *flags, "从业人数"]
    base = list(flags.values())
    rows = [
        ["91331082MA2AB3CF7M", None, None, None, None, None, "x", *base, None],  # check character
        ["91331082MA2AB3CF7N", None, None, None, None, None, "x", *base, None],  # valid, not registered
        [a, "没有这一类", "办理中", "市长办公室", "2023-02-30", "明年", "x" * 2001, *base, "3.5"],
        [b, None, None, None, "2023-07-01", None, "x", "也许", "否", "否", None, None],
        [c, None, None, None, dt.date(2023, 5, 1), dt.datetime(2023, 12, 31), "实地排摸", *base, 12],
    ]
    problems = _refused(site, "admin", "low_scattered_disorderly", _book(header, rows))
    assert _by_row(problems) == {
        2: {"credit_code_check_character"},
        3: {"unknown_enterprise"},
        4: {"invalid_choice", "invalid_date", "too_long", "invalid_field"},
        5: {"future_date", "invalid_field", "missing_input"},
    }
    assert {p.context["key"] for p in problems if p.context["row"] == 4} >= {
        "category",
        "state",
        "responsible_unit",
        "opened",
        "deadline",
        "reason",
        "fields.employees",
    }
    missing = next(p for p in problems if p.code == "missing_input")
    assert missing.context["key"] == "fields.no_environmental_measures" and missing.message_zh.endswith(
        "请填写无环保措施。"
    )


def test_import_when_the_header_row_is_wrong_says_so_once_not_per_row(site):
    """A required column missing, a column twice, a wrong unit: problems of the header row; other columns ignored."""
    code = _free(site, HCLE, 1)[0]
    data = _book(
        ["统一社会信用代码", "类别", "Category", "实际用地面积(万元)", "备注"], [[code, "改造提升", None, 3, "x"]]
    )
    problems = _refused(site, "admin", HCLE, data)
    assert {(p.code, p.context["row"]) for p in problems} == {
        ("missing_column", 1),
        ("duplicate_column", 1),
        ("unknown_unit", 1),
    }
    assert next(p for p in problems if p.code == "missing_column").context["header"] == "理由"


def test_import_when_a_town_names_another_towns_firm_refuses_that_row_in_the_words_of_an_unknown_code(site):
    """A town imports only its own firms: another town's code is a row problem (never a 404), in the same words as
    a code that is not registered; the admin may import it."""
    foreign = _free(site, HCLE, 1, own=False)[0]
    data = _book(["统一社会信用代码", "理由"], [[foreign, "排摸"], ["91331082MA2AB3CF7N", "排摸"]])
    first, second = _refused(site, "town", HCLE, data)
    assert first.code == second.code == "unknown_enterprise"
    assert (
        first.message_zh.replace(foreign, "X").split("：", 1)[1]
        == second.message_zh.replace("91331082MA2AB3CF7N", "X").split("：", 1)[1]
    )
    done = imports.import_register(
        site.p.uow, site.a["admin"], HCLE, _book(["统一社会信用代码", "理由"], [[foreign, "排摸"]]), "a.xlsx"
    )
    assert done["created"] == 1


def test_import_when_a_firm_is_listed_twice_or_already_open_refuses_the_duplicates(site):
    """One open entry per firm: a second open row, or a row of a firm already open in the register, is refused; a
    closed row beside an open one is history and allowed."""
    code, other = _free(site, HCLE, 2)
    imports.import_register(
        site.p.uow, site.a["town"], HCLE, _book(["统一社会信用代码", "理由"], [[code, "排摸"]]), "a.xlsx"
    )
    data = _book(
        ["统一社会信用代码", "状态", "理由"], [[other, None, "排摸"], [other, "整治中", "再次"], [code, None, "又一次"]]
    )
    problems = _refused(site, "town", HCLE, data)
    assert _by_row(problems) == {3: {"duplicate_row"}, 4: {"already_listed"}}
    assert "第2行" in problems[0].message_zh and "已在高耗低效企业清单中" in problems[1].message_zh
    history = _book(
        ["统一社会信用代码", "状态", "理由"],
        [[code, "关停退出", "2021年已关停"], [other, "达标销号", "旧账"], [other, None, "新列入"]],
    )
    assert imports.import_register(site.p.uow, site.a["town"], HCLE, history, "b.xlsx", day=DAY)["created"] == 3


def test_import_when_states_are_given_keeps_them_terminal_ones_too_and_defaults_to_the_manual_state(site):
    """States by Chinese or English name or key; blank is the kind's manual state; a closed state is kept; a
    proposal (never listed) needs no complete fields, a listed entry does."""
    a, b, c, d = _free(site, "low_scattered_disorderly", 4)
    flags = ["否", "否", "否", "否"]
    header = ["统一社会信用代码", "状态", "整治期限", "理由", "无证无照", "无安全保障", "无合法场所", "无环保措施"]
    rows = [[a, None, None, "排摸", *flags], [b, "rectifying", "2023-12-31", "整治中", *flags],
            [c, "整治销号", None, "已销号", *flags], [d, "Closed down", None, "已取缔", *flags]]  # fmt: skip
    done = imports.import_register(
        site.p.uow, site.a["admin"], "low_scattered_disorderly", _book(header, rows), "l.xlsx"
    )
    states = [views.entry(site.p.uow, site.a["admin"], i, DAY)["status"] for i in done["entries"]]
    kind = KINDS["low_scattered_disorderly"]
    assert states[0] == kind.manual_state and states[1] == "rectifying" and set(states[2:]) <= set(kind.terminal)
    assert views.entry(site.p.uow, site.a["admin"], done["entries"][1], DAY)["deadline"] == dt.date(2023, 12, 31)
    e = _free(site, HCLE, 1)[0]
    proposal = imports.import_register(
        site.p.uow,
        site.a["admin"],
        HCLE,
        _book(["统一社会信用代码", "状态", "理由"], [[e, "系统建议列入（待确认）", "旧账"]]),
        "p.xlsx",
    )
    assert views.entry(site.p.uow, site.a["admin"], proposal["entries"][0], DAY)["status"] == "proposed"


def test_project_kind_when_imported_checks_the_project_and_refuses_a_project_eliminated_by_order(site):
    """A.3.15: the project must be the firm's; a listed project 明令淘汰 = 是 is refused with the reason and the
    clause; the same project as 不予列入 (a proposal dismissed) is history and imported."""
    code, other = _free(site, ZERO, 2)
    mine = projects.create_project(
        site.p.uow, site.a["admin"], code, "零增地导入项目", "2023-03-01", {"total_investment": 5000000}
    )
    theirs = projects.create_project(
        site.p.uow, site.a["admin"], other, "他企项目", "2023-03-01", {"total_investment": 5000000}
    )
    header = [
        "统一社会信用代码",
        "项目编号",
        "理由",
        "项目总投资(元)",
        "属明令淘汰项目",
        "属限制类项目",
        "企业近期列入当地搬迁改造",
    ]
    rows = [
        [code, theirs, "排摸", 5000000, "否", "否", "否"],
        [code, mine, "排摸", 5000000, "是", "否", "否"],
        [code, None, "排摸", 1, "否", "否", "否"],
    ]
    problems = _refused(site, "town", ZERO, _book(header, rows))
    assert _by_row(problems) == {2: {"invalid_project"}, 3: {"refused_by_rule"}, 4: {"missing_input"}}
    refusal = next(p for p in problems if p.code == "refused_by_rule")
    assert (
        "明令淘汰" in refusal.message_zh
        and "A.3.15" in refusal.message_zh
        and refusal.context["header"] == "属明令淘汰项目"
    )
    dismissed = _book([*header, "状态"], [[code, mine, "不符合条件", 5000000, "是", "否", "否", "不予列入"]])
    assert imports.import_register(site.p.uow, site.a["town"], ZERO, dismissed, "z.xlsx")["created"] == 1


def test_import_when_done_audits_each_entry_with_its_file_and_row(site):
    """Each entry: a ``<kind>.import`` event whose after-state has the state, fields, file and row; the basis says
    where it came from; the entry's history shows the import."""
    code = _free(site, HCLE, 1)[0]
    data = _book(
        ["统一社会信用代码", "状态", "理由", "亩均税收(万元/亩)", "违法违规情形"],
        [[code, "整治中", "迁移旧清单", 1.25, "无"]],
    )
    (entry_id,) = imports.import_register(site.p.uow, site.a["town"], HCLE, data, "旧清单.xlsx", address="192.0.2.5")[
        "entries"
    ]
    with site.p.uow.read() as conn:
        (row,) = conn.execute(
            select(audit_log).where(audit_log.c.action == f"{HCLE}.import", audit_log.c.entity_id == str(entry_id))
        )
    assert row.actor == "town" and row.address == "192.0.2.5"
    assert row.after["status"] == "rectifying" and row.after["file"] == "旧清单.xlsx" and row.after["row"] == 2
    assert row.after["fields"] == {"tax_per_mu": "1.2500", "violation": "无"}
    e = views.entry(site.p.uow, site.a["admin"], entry_id, DAY)
    assert e["basis"] == {
        "source": "import",
        "clause": "A.3.1",
        "reason": "迁移旧清单",
        "file": "旧清单.xlsx",
        "row": 2,
    }
    assert [h["move"] for h in e["history"]] == ["import"] and e["history"][0]["move_zh"].startswith("从Excel导入")


def test_import_when_the_role_may_not_add_or_the_file_is_too_large_is_refused(site):
    """Only the kind's intake roles (a department only where it is a unit, its rows its own unit's); the upload
    limit applies."""
    code = _free(site, HCLE, 1)[0]
    data = _book(["统一社会信用代码", "理由"], [[code, "排摸"]])
    for role in ("enterprise", "auditor", "department"):  # 高耗低效: town and admin only
        with pytest.raises(Forbidden):
            imports.import_register(site.p.uow, site.a[role], HCLE, data, "a.xlsx")
    with pytest.raises(TooLarge):
        imports.import_register(site.p.uow, site.a["admin"], HCLE, data, "a.xlsx", max_mb=0)
    kind = KINDS[TWO_HIGH]  # a department of one of its units (the demo one, 市自然资源规划局, is not)
    department = dataclasses.replace(site.a["department"], department=kind.lead.zh)
    code = _free(site, TWO_HIGH, 1)[0]
    header = ["统一社会信用代码", "理由", "项目名称", "项目阶段", "责任单位"]
    other_unit = next(u.zh for u in kind.units if u.zh != department.department)
    problems = _refused(site, department, TWO_HIGH, _book(header, [[code, "检查", "某项目", "在建", other_unit]]))
    assert [p.code for p in problems] == ["not_your_unit"]
    done = imports.import_register(
        site.p.uow, department, TWO_HIGH, _book(header, [[code, "检查", "某项目", "在建", None]]), "t.xlsx"
    )
    unit = views.entry(site.p.uow, site.a["admin"], done["entries"][0], DAY)["unit_zh"]
    assert unit == department.department


def test_cli_when_importing_prints_every_problem_and_imports_nothing_or_imports_all(site, tmp_path):
    """`tenglong registers import`: problems in Chinese and English, exit 1, nothing imported; then a clean file."""
    code = _free(site, HCLE, 1)[0]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(_book(["统一社会信用代码", "理由"], [[code, "排摸"], [code, None]]))
    runner = CliRunner()
    base = ["registers", "import", "--kind", "高耗低效企业清单", "--user", "town", "--database-url", site.url]
    before = _count(site, HCLE)
    done = runner.invoke(main, [*base, str(bad)])
    assert done.exit_code == 1 and _count(site, HCLE) == before
    assert (
        "Sheet!B3 (理由)：请填写理由。" in done.output
        and "duplicate_row" in done.output
        and "nothing was imported" in done.output
    )
    good = tmp_path / "good.xlsx"
    good.write_bytes(_book(["统一社会信用代码", "理由"], [[code, "排摸"]]))
    done = runner.invoke(main, [*base, str(good)])
    assert done.exit_code == 0 and "imported 1 entries" in done.output and _count(site, HCLE) == before + 1
    assert runner.invoke(main, [*base[:-4], "--user", "nobody", "--database-url", site.url, str(good)]).exit_code != 0
