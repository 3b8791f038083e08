"""The A.3.16 tags of the enterprise register: parsing what people write, the import's 企业标签 column (good, a bad
token, an empty cell, 无), setting them on a profile (scope, permission, audit), and the demo county's share."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest
from sqlalchemy import func, select

from tenglong.adapters.db.tables import audit_log, enterprise_years, enterprises, users
from tenglong.adapters.tabular.columns import BY_KEY, TAG_CATEGORIES
from tenglong.adapters.tabular.writer import write_enterprise_years
from tenglong.core.errors import Forbidden, InvalidInput, NotFound
from tenglong.demo.county import TAG_SHARES_ABOVE, TAG_SHARES_BELOW, generate_county
from tenglong.registers import kinds
from tenglong.services.accounts.auth import actor_of, create_user
from tenglong.services.bootstrap import DEMO_TOWN, ensure_database
from tenglong.services.data import uploads
from tenglong.services.data.validation import load_enterprise_years
from tenglong.services.enterprises.tags import TAGS, parse_tags, set_tags, tags_of
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD, Settings

YEAR = 2023


# --- parse_tags --------------------------------------------------------------------------------------------------


def test_tags_when_loaded_are_the_quality_register_categories_but_the_mujun_classes():
    """One source: the categories of quality_retention.yaml without class_a/class_b, here and in the import column."""
    categories = kinds.load()["quality_retention"].categories
    assert list(TAGS) == [c.key for c in categories if c.key not in ("class_a", "class_b")]
    assert list(TAGS) == [c.key for c in TAG_CATEGORIES]
    assert TAGS["little_giant"].zh == "国家“小巨人”企业" and TAGS["listed"].en == "listed company"


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("上市企业", ["listed"]),
        ("上市企业、国家“小巨人”企业", ["listed", "little_giant"]),
        ("国家小巨人企业，上市企业", ["listed", "little_giant"]),  # quotes left out; keys in the clause's order
        ('省"未来工厂"及培育企业; “2513”重点培育企业', ["future_factory", "key_2513"]),
        ("战略性新兴产业企业\n单项冠军及培育企业", ["single_champion", "strategic_emerging"]),
        ("上市企业 战略性新兴产业企业", ["listed", "strategic_emerging"]),
        ("listed company, national “little giant”", ["listed", "little_giant"]),
        ("listed,ipo_filed；KEY_2513", ["listed", "ipo_filed", "key_2513"]),
        ("上市企业、listed、上市企业", ["listed"]),
        ("无", []),
        ("none", []),
        ("", []),
    ],
)
def test_parse_tags_when_names_keys_and_separators_vary_gives_the_keys(text, keys):
    """Chinese names (quotes optional), English names and keys, split at 、，,;； spaces or lines; 无 alone: none."""
    assert parse_tags(text) == (keys, [])


def test_parse_tags_when_a_token_is_unknown_names_it_and_lists_the_allowed_names():
    """Each bad token is one problem, its message naming the token and every allowed name (zh and en)."""
    keys, problems = parse_tags("上市企业、龙头企业、小巨人")
    assert keys == ["listed"]
    assert [(p.code, p.value) for p in problems] == [("unknown_tag", "龙头企业"), ("unknown_tag", "小巨人")]
    p = problems[0]
    assert "「龙头企业」" in p.message_zh and "'龙头企业'" in p.message_en
    assert all(c.zh in p.message_zh and c.key in p.message_en for c in TAGS.values())
    assert p.example == "上市企业、国家“小巨人”企业"


def test_parse_tags_when_none_is_written_with_tags_refuses_the_none():
    """无 clears every tag and stands alone: beside a tag it is a problem."""
    keys, problems = parse_tags("无、上市企业")
    assert keys == ["listed"] and [p.value for p in problems] == ["无"] and "单独" in problems[0].message_zh


# --- the platform ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An empty platform (no demo county), its five accounts, and three firms of one year: two of the demo town."""
    tmp = tmp_path_factory.mktemp("tags")
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'tags.db'}",
        demo=False,
        upload_dir=str(tmp / "uploads"),
        attachment_dir=str(tmp / "files"),
    )
    p = Platform.from_settings(settings)
    ensure_database(p, say=lambda m: None)
    county = generate_county(7, [YEAR]).with_columns(pl.lit(None, pl.String).alias("tags"))
    own = county.filter(pl.col("town") == DEMO_TOWN).head(2)
    foreign = county.filter(pl.col("town") != DEMO_TOWN).head(1)
    frame = pl.concat([own, foreign])
    admin_id = create_user(p.uow, None, "admin", "管理员", DEMO_PASSWORD, "admin", department="市经信局")
    with p.uow.read() as conn:
        admin = actor_of(conn.execute(select(users).where(users.c.id == admin_id)).one())
    create_user(p.uow, admin, "department", "科员", DEMO_PASSWORD, "department", department="市发改局")
    create_user(p.uow, admin, "town", "杜桥镇", DEMO_PASSWORD, "town", town=DEMO_TOWN)
    create_user(p.uow, admin, "enterprise", "企业", DEMO_PASSWORD, "enterprise", credit_code=own["credit_code"][0])
    create_user(p.uow, admin, "auditor", "审计员", DEMO_PASSWORD, "auditor")
    with p.uow.read() as conn:
        actors = {r.username: actor_of(r) for r in conn.execute(select(users))}
    codes = frame["credit_code"].to_list()
    s = SimpleNamespace(p=p, a=actors, frame=frame, tmp=tmp, own=codes[0], neighbour=codes[1], foreign=codes[2])
    assert _import(s, frame, "first.xlsx")["status"] == "committed"
    yield s
    p.engine.dispose()


def _import(s, frame: pl.DataFrame, name: str) -> dict:
    """Upload ``frame`` in the import format as the admin, wait for the validation, commit a clean one: the import."""
    path = write_enterprise_years(frame, Path(s.tmp) / name)
    admin = s.a["admin"]
    with path.open("rb") as f:
        iid = uploads.receive(s.p, admin, name, f)
    uploads._WORKERS[iid].join(60)
    view = uploads.get_import(s.p, admin, iid)
    if view.can_commit:
        uploads.commit(s.p, admin, iid)
        uploads._WORKERS[iid].join(60)
        view = uploads.get_import(s.p, admin, iid)
    return {"id": iid, "status": view.status, "errors": view.error_count, "commit": view.commit}


def _tags(s) -> dict[str, list[str]]:
    with s.p.uow.read() as conn:
        return tags_of(conn, [s.own, s.neighbour, s.foreign])


def _sql_null(s, code: str) -> bool:
    """The firm's tags are SQL NULL (not a JSON null or an empty list)."""
    with s.p.uow.read() as conn:
        where = (enterprises.c.credit_code == code) & enterprises.c.tags.is_(None)
        return conn.execute(select(func.count()).select_from(enterprises).where(where)).scalar_one() == 1


def _with(s, cells: dict[str, str | None]) -> pl.DataFrame:
    """The three firms' rows with the tags cells given (canonical keys, "" for none, None for an empty cell)."""
    return s.frame.with_columns(pl.Series("tags", [cells.get(c) for c in s.frame["credit_code"]], pl.String))


def test_import_when_tags_column_is_filled_sets_the_tags_and_leaves_empty_cells_alone(site):
    """Named tags are set; an empty cell leaves the firm's tags; 无 clears them — through the real upload and commit."""
    first = _import(site, _with(site, {site.own: "listed,little_giant", site.foreign: "strategic_emerging"}), "a.xlsx")
    assert first["status"] == "committed" and first["commit"]["enterprises_tagged"] == 2
    assert _tags(site) == {site.own: ["listed", "little_giant"], site.foreign: ["strategic_emerging"]}
    second = _import(site, _with(site, {site.foreign: ""}), "b.xlsx")  # own: empty cell; foreign: 无
    assert second["status"] == "committed" and second["commit"]["enterprises_tagged"] == 1
    assert _tags(site) == {site.own: ["listed", "little_giant"]} and _sql_null(site, site.foreign)
    third = _import(site, _with(site, {}).drop("tags"), "c.xlsx")  # no column at all
    assert third["status"] == "committed" and _tags(site) == {site.own: ["listed", "little_giant"]}


def test_import_when_a_tag_is_unknown_is_a_row_problem_and_nothing_is_imported(site):
    """A bad token is an error of its cell (with the others of the file); the file imports nothing, tags included."""
    cells = {site.own: "上市企业、龙头企业", site.neighbour: "上市企业", site.foreign: "小巨人"}
    frame = _with(site, cells)  # the cells as written (the writer passes text that is no key through)
    result = load_enterprise_years(write_enterprise_years(frame, Path(site.tmp) / "bad.xlsx"))
    assert not result.ok and result.frame is None
    assert [(p.code, p.context["row"], p.context["column"], p.value) for p in result.problems] == [
        ("unknown_tag", 2, "T", "上市企业、龙头企业"),
        ("unknown_tag", 4, "T", "小巨人"),
    ]
    assert "「龙头企业」" in result.problems[0].message_zh and "国家“小巨人”企业" in result.problems[1].message_zh
    with site.p.uow.read() as conn:
        before = conn.execute(select(func.count()).select_from(enterprise_years)).scalar_one()
        held = tags_of(conn, [site.neighbour])
    imported = _import(site, frame, "bad2.xlsx")
    assert imported["status"] == "invalid" and imported["errors"] == 2
    with site.p.uow.read() as conn:
        assert conn.execute(select(func.count()).select_from(enterprise_years)).scalar_one() == before
        assert tags_of(conn, [site.neighbour]) == held


def test_import_template_column_when_described_names_the_clause_and_an_example():
    """The column is optional, read as tags, with the clause, the names and an example the parser accepts."""
    spec = BY_KEY["tags"]
    assert spec.header("zh") == "企业标签" and spec.required == "optional" and spec.kind == "tags"
    assert (
        "A.3.16" in spec.note_zh
        and "“无”" in spec.note_zh
        and parse_tags(spec.example)
        == (
            ["listed", "little_giant"],
            [],
        )
    )


# --- set_tags ----------------------------------------------------------------------------------------------------


def test_set_tags_when_admin_or_the_firms_town_sets_them_is_audited_with_before_and_after(site):
    """Admin sets any firm's tags, the town its own town's; each change is one enterprise.tags row."""
    assert set_tags(site.p.uow, site.a["admin"], site.foreign, ["key_2513", "listed"]) == ["listed", "key_2513"]
    assert set_tags(site.p.uow, site.a["town"], site.neighbour.lower(), ["上市企业", "hidden_champion"]) == [
        "listed",
        "hidden_champion",
    ]
    with site.p.uow.read() as conn:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.action == "enterprise.tags").order_by(audit_log.c.id)
        ).all()
    assert [(r.actor, r.entity_type, r.entity_id) for r in rows[-2:]] == [
        ("admin", "enterprise", site.foreign),
        ("town", "enterprise", site.neighbour),
    ]
    assert rows[-1].before == {"tags": []} and rows[-1].after == {
        "tags": ["listed", "hidden_champion"],
        "clause": "A.3.16",
    }
    set_tags(site.p.uow, site.a["admin"], site.foreign, [])
    with site.p.uow.read() as conn:
        stored = conn.execute(select(enterprises.c.tags).where(enterprises.c.credit_code == site.foreign)).scalar_one()
    assert stored is None and _sql_null(site, site.foreign) and site.foreign not in _tags(site)


@pytest.mark.parametrize(
    ("role", "firm", "error"),
    [
        ("town", "foreign", NotFound),  # another town's firm: as if it did not exist
        ("enterprise", "neighbour", NotFound),
        ("enterprise", "own", Forbidden),  # its own firm: seen, not set
        ("department", "own", Forbidden),
        ("auditor", "own", Forbidden),
        ("admin", "guess", NotFound),
    ],
)
def test_set_tags_when_outside_scope_or_permission_refuses_and_changes_nothing(site, role, firm, error):
    """404 outside the scope (and for a guessed code), 403 for a role that sees the firm but may not tag it."""
    code = getattr(site, firm, "91331082MA0000000X")
    with site.p.uow.read() as conn:
        before = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        held = tags_of(conn, [code])
    with pytest.raises(error):
        set_tags(site.p.uow, site.a[role], code, ["future_factory"])
    with site.p.uow.read() as conn:
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == before
        assert tags_of(conn, [code]) == held


def test_set_tags_when_a_tag_is_unknown_lists_it_and_changes_nothing(site):
    """An unknown key (or class_a, which the evaluation decides) is an input problem naming it."""
    with site.p.uow.read() as conn:
        held = tags_of(conn, [site.own])
    with pytest.raises(InvalidInput) as caught:
        set_tags(site.p.uow, site.a["admin"], site.own, ["listed", "class_a", "dragon_head"])
    assert [p.value for p in caught.value.problems] == ["class_a", "dragon_head"]
    with site.p.uow.read() as conn:
        assert tags_of(conn, [site.own]) == held


# --- the demo county ---------------------------------------------------------------------------------------------


def test_demo_county_when_generated_gives_a_plausible_share_of_tags_mostly_to_above_scale_firms():
    """Each tag near its assumed share of the 规上 firms; a few 规下 firms 战略性新兴产业; the same every time."""
    county = generate_county(2023, [YEAR])
    assert set(TAG_SHARES_ABOVE) <= set(TAGS) and set(TAG_SHARES_BELOW) <= set(TAGS)
    held = county.filter(pl.col("tags").is_not_null()).with_columns(pl.col("tags").str.split(",")).explode("tags")
    assert set(held["tags"]) <= set(TAGS)
    above = county.filter(pl.col("above_scale")).height
    for key, share in TAG_SHARES_ABOVE.items():
        n = held.filter(pl.col("above_scale") & (pl.col("tags") == key)).height
        assert 0 < n <= 2 * share * above + 3, (key, n)
    below = held.filter(~pl.col("above_scale"))
    assert set(below["tags"]) == {"strategic_emerging"} and 0 < below.height < 20
    assert generate_county(2023, [YEAR])["tags"].equals(county["tags"])
