"""数据导入 in a real browser: a file with the planted defects is reported cell by cell and cannot be committed; the
fixed file commits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tenglong.adapters.tabular.columns import SPECS
from tenglong.adapters.tabular.reader import column_letter
from tenglong.demo.county import generate_county_with_defects

SEED, YEAR = 7, 2024  # the demo database holds 2021–2023; 2024 is new to it
CODE_OF_DEFECT = {"bad_check_character": "credit_code_check_character", "negative_land": "negative_value"}
LETTERS = {s.key: column_letter(i) for i, s in enumerate(SPECS)}
VALIDATION_TIMEOUT = 90_000


def _demo_data(out: Path, *extra: str) -> Path:
    """Write the demo county of YEAR with the documented command (`tenglong demo-data`)."""
    args = [
        sys.executable,
        "-m",
        "tenglong.cli",
        "demo-data",
        "--seed",
        str(SEED),
        "--years",
        f"{YEAR}-{YEAR}",
        "--out",
        str(out),
        *extra,
    ]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """The defective file, the fixed (clean) one, and where each planted defect must be reported (code, sheet row,
    column letter, value).
    """
    folder = tmp_path_factory.mktemp("e2e-import")
    frame, defects = generate_county_with_defects(SEED, [YEAR])  # the same seed and year: the defects the CLI plants
    keys = list(zip(frame["credit_code"], frame["year"], strict=True))
    expected = []
    for d in defects:
        row = d["row"]
        if d["defect"] == "duplicate_credit_code_year":  # reported on the later row of the pair
            row = max(j for j, key in enumerate(keys) if key == keys[row])
        expected.append(
            {
                "code": CODE_OF_DEFECT.get(d["defect"], d["defect"]),
                "row": row + 2,
                "column": LETTERS[d["column"]],
                "value": d["value"],
            }
        )
    return {
        "bad": _demo_data(folder / "企业数据-有错.xlsx", "--with-defects"),
        "good": _demo_data(folder / "企业数据.xlsx"),
        "expected": expected,
    }


def _upload(page, server: str, path: Path) -> str:
    """Upload on /imports and wait until the report page shows the validation finished (the page polls, then
    reloads).
    """
    page.goto(f"{server}/imports")
    page.set_input_files("#upload-file", str(path))
    with page.expect_navigation(url=lambda u: "/imports/" in u):
        page.click("#upload-submit")
    page.wait_for_selector(
        "#import-status:not([data-status=validating]):not([data-status=uploaded])", timeout=VALIDATION_TIMEOUT
    )
    page.wait_for_load_state("networkidle")
    return page.url


def test_import_when_file_has_the_planted_defects_reports_each_cell_and_refuses_the_commit(
    page, server, login, files, render_errors
):
    """Every planted defect is listed with its code, row, column and value; there is no commit button and a forced
    commit is refused (409).
    """
    login("admin")
    url = _upload(page, server, files["bad"])
    expect(page.locator("#import-status")).to_have_attribute("data-status", "invalid")
    expect(page.locator("#report-invalid")).to_be_visible()
    expect(page.locator("#error-count")).to_have_text(str(len(files["expected"])))
    rows = page.locator("#problems-table tbody tr[data-code]")
    expect(rows).to_have_count(len(files["expected"]))
    for e in files["expected"]:
        row = page.locator(
            f"#problems-table tbody tr[data-code={e['code']}][data-row='{e['row']}'][data-column={e['column']}]"
        )
        expect(row).to_have_count(1)
        cells = row.locator("td")
        assert cells.nth(3).inner_text().strip() == str(e["row"]) and cells.nth(4).inner_text().startswith(e["column"])
        value = cells.nth(5)
        if e["value"] is None:
            expect(value.locator("code")).to_have_count(0)  # shown as blank
        elif e["column"] == LETTERS["land_area_mu"]:
            assert float(value.inner_text()) == float(e["value"])
        else:
            expect(value).to_have_text(e["value"])
    expect(page.locator("#commit-button")).to_have_count(0)
    import_id = url.rstrip("/").rsplit("/", 1)[1]
    status = page.evaluate(
        """async (id) => {
        const csrf = document.querySelector('input[name=csrf_token]').value;
        const r = await fetch(`/api/v1/imports/${id}/commit`, {method: 'POST', headers: {'X-CSRF-Token': csrf}});
        return r.status; }""",
        import_id,
    )
    assert status == 409
    render_errors[:] = [
        e for e in render_errors if f"/api/v1/imports/{import_id}/commit" not in e
    ]  # the 409 just forced
    page.reload()
    expect(page.locator("#import-status")).to_have_attribute("data-status", "invalid")
    with page.expect_navigation():
        page.click("#discard-button")
    expect(page.locator("#import-status")).to_have_attribute("data-status", "discarded")
    assert render_errors == []


def test_import_when_the_fixed_file_is_uploaded_validates_clean_and_commits_with_evaluate_links(
    page, server, login, files, render_errors
):
    """The clean file of the same seed validates without errors; commit runs, the page says committed and links to
    evaluating YEAR.
    """
    login("admin")
    url = _upload(page, server, files["good"])
    expect(page.locator("#import-status")).to_have_attribute("data-status", "validated")
    expect(page.locator("#report-clean")).to_be_visible()
    expect(page.locator("#error-count")).to_have_text("0")
    expect(page.locator("#problems-table tbody tr[data-code]")).to_have_count(0)
    page.click("#commit-button")  # irreversible: a dialog asks first; cancelling leaves the import as it was
    expect(page.locator("#confirm-dialog")).to_be_visible()
    page.click("#confirm-cancel")
    expect(page.locator("#import-status")).to_have_attribute("data-status", "validated")
    page.click("#commit-button")
    with page.expect_navigation():
        page.click("#confirm-ok")
    page.wait_for_selector("#import-status[data-status=committed]", timeout=VALIDATION_TIMEOUT)
    page.wait_for_load_state("networkidle")
    assert page.url.split("?")[0] == url.split("?")[0]
    expect(page.locator("#commit-done")).to_be_visible()
    expect(page.locator("#commit-button")).to_have_count(0)
    link = page.locator(f"#evaluate-links a[href='/evaluations?year={YEAR}']")
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(f"{server}/evaluations?year={YEAR}")
    expect(page.locator("h1")).to_be_visible()
    page.goto(f"{server}/imports")
    expect(
        page.locator("#imports-table tbody tr").filter(has_text="企业数据.xlsx").filter(has_text=str(YEAR)).first
    ).to_be_visible()
    assert render_errors == []
