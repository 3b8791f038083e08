"""Enterprise-year data in the database: store an imported table, read it back as one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection, bindparam, delete, insert, null, select

from ...adapters.db.tables import enterprise_years, enterprises
from ..kernel.uow import Writer, now

MONEY = ("tax_paid", "value_added", "revenue", "rd_expense", "fixed_asset_investment")
FLOATS = ("energy_tce", "emission_equivalent_t", "electricity_kwh", "carbon_emission_t")


def _fixed(x: Any, places: int) -> Decimal | None:
    """A float read from a validated table (≤ ``places`` decimals) as its exact Decimal."""
    if x is None:
        return None
    return Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-places))


def store_frame(w: Writer, frame: pl.DataFrame, import_id: int | None) -> dict[str, int]:
    """Upsert enterprises and replace their rows for the years in ``frame`` (inside the caller's transaction).

    The A.3.16 tags (the optional ``tags`` column, see ``validation.py``) are set from the latest year whose cell
    says something: its keys, or none for 无; an empty cell, or no column, leaves an enterprise's tags as they are.

    Returns:
        Counts: enterprises created and updated, enterprise-years written, enterprises whose tags were set.
    """
    years = sorted(set(frame["year"].to_list()))
    existing = {r.credit_code for r in w.conn.execute(select(enterprises.c.credit_code))}
    latest = frame.sort("year").unique(subset=["credit_code"], keep="last")
    new_rows, updated = [], 0
    stamp = now()
    for r in latest.iter_rows(named=True):
        values = {
            "name": r["name"],
            "town": r["town"],
            "industry": r["industry"],
            "above_scale": bool(r["above_scale"]),
            "updated_at": stamp,
        }
        if r["credit_code"] in existing:
            w.conn.execute(enterprises.update().where(enterprises.c.credit_code == r["credit_code"]).values(**values))
            updated += 1
        else:
            new_rows.append({"credit_code": r["credit_code"], **values})
    if new_rows:
        w.conn.execute(insert(enterprises), new_rows)
    tagged = _store_tags(w, frame)
    codes = frame["credit_code"].unique().to_list()
    for y in years:
        w.conn.execute(
            delete(enterprise_years).where(enterprise_years.c.year == y, enterprise_years.c.credit_code.in_(codes))
        )
    rows = []
    for r in frame.iter_rows(named=True):
        row = {k: r[k] for k in ("credit_code", "year", "town", "industry", "above_scale", "in_construction_period")}
        row["veto"] = r.get("veto") or ""
        row["land_area_mu"] = _fixed(r["land_area_mu"], 4)
        row.update({k: _fixed(r[k], 2) for k in MONEY})
        row["fixed_asset_investment"] = row["fixed_asset_investment"] or Decimal(0)
        row.update({k: r[k] for k in FLOATS})
        row["employees"] = int(r["employees"]) if r["employees"] is not None else None
        row["import_id"] = import_id
        rows.append(row)
    for k in range(0, len(rows), 2000):
        w.conn.execute(insert(enterprise_years), rows[k : k + 2000])
    return {
        "enterprises_created": len(new_rows),
        "enterprises_updated": updated,
        "enterprise_years": len(rows),
        "enterprises_tagged": tagged,
    }


def _store_tags(w: Writer, frame: pl.DataFrame) -> int:
    """Set the tags the file gives, from the latest non-empty cell of each enterprise (无 stores SQL NULL).

    One statement for the tagged enterprises and one per 1,000 cleared, never one per row.
    """
    if "tags" not in frame.columns:
        return 0
    given = frame.filter(pl.col("tags").is_not_null()).sort("year").unique(subset=["credit_code"], keep="last")
    rows = [
        {"code": code, "new_tags": text.split(",")} for code, text in given.select("credit_code", "tags").iter_rows()
    ]
    tagged = [r for r in rows if r["new_tags"] != [""]]
    cleared = [r["code"] for r in rows if r["new_tags"] == [""]]
    if tagged:
        w.conn.execute(
            enterprises.update()
            .where(enterprises.c.credit_code == bindparam("code"))
            .values(tags=bindparam("new_tags", type_=enterprises.c.tags.type)),
            tagged,
        )
    for k in range(0, len(cleared), 1000):
        w.conn.execute(
            enterprises.update().where(enterprises.c.credit_code.in_(cleared[k : k + 1000])).values(tags=null())
        )
    return len(rows)


SCHEMA = {
    "credit_code": pl.Utf8,
    "name": pl.Utf8,
    "year": pl.Int32,
    "town": pl.Utf8,
    "industry": pl.Utf8,
    "above_scale": pl.Boolean,
    "land_area_mu": pl.Float64,
    "tax_paid": pl.Float64,
    "value_added": pl.Float64,
    "revenue": pl.Float64,
    "rd_expense": pl.Float64,
    "energy_tce": pl.Float64,
    "emission_equivalent_t": pl.Float64,
    "employees": pl.Int64,
    "electricity_kwh": pl.Float64,
    "carbon_emission_t": pl.Float64,
    "fixed_asset_investment": pl.Float64,
    "in_construction_period": pl.Boolean,
    "veto": pl.Utf8,
}


def frame_from_db(conn: Connection, years: list[int] | None = None) -> pl.DataFrame:
    """The canonical enterprise-year table (the import schema) of the given years."""
    q = select(enterprise_years, enterprises.c.name).join(
        enterprises, enterprises.c.credit_code == enterprise_years.c.credit_code
    )
    if years:
        q = q.where(enterprise_years.c.year.in_(years))
    data: dict[str, list] = {k: [] for k in SCHEMA}
    for r in conn.execute(q.order_by(enterprise_years.c.year, enterprise_years.c.credit_code)):
        m = r._mapping
        for k in SCHEMA:
            v = m[k]
            data[k].append(float(v) if isinstance(v, Decimal) else v)
    return pl.DataFrame(data, schema=SCHEMA)
