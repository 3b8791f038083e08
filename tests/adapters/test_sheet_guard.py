"""The spreadsheet guard and sandbox: every known bomb shape is refused with a clear, bilingual problem before the
parser sees it, a parse that still blows up only kills its child process, and fuzzed files never raise anything else.

Every hostile file is generated here, small on disk: a deflate stream of a repeated piece is compressed once and
repeated, so a 600 MiB member costs 600 KB and one CRC pass.
"""

from __future__ import annotations

import io
import logging
import random
import resource
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import xlsxwriter
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenglong.adapters.tabular.guard import MIB, REFUSALS, SheetLimits, SheetTooLarge
from tenglong.adapters.tabular.reader import RawTable, ReadError, read_table
from tenglong.cli import main
from tenglong.core.errors import InvalidInput
from tenglong.services.data.validation import load_enterprise_years
from tenglong.web.errors import status_of

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
DEFAULTS = SheetLimits()

# --- building workbooks byte by byte ---------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A zip entry: its raw deflate stream (or stored bytes), the CRC and size it declares."""

    name: str
    data: bytes
    crc: int
    size: int
    method: int = 8


def deflated(name: str, content: bytes) -> Entry:
    """An honest entry."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Entry(name, c.compress(content) + c.flush(), zlib.crc32(content), len(content))


def repeated(name: str, *pieces: tuple[bytes, int]) -> Entry:
    """An honest entry of each ``(bytes, times)`` in turn; a repeated piece is compressed once (a full flush makes
    each block stand alone), so the file stays small however large the entry unpacks."""
    stream, crc, size = [], 0, 0
    for data, times in pieces:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        stream.append((c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)) * times)
        for _ in range(times):
            crc = zlib.crc32(data, crc)
        size += len(data) * times
    return Entry(name, b"".join(stream) + b"\x03\x00", crc, size)  # 03 00: the final, empty block


def zip_bytes(entries: list[Entry]) -> bytes:
    """A zip of the entries exactly as given (sizes and CRCs are not checked: they may lie)."""
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e.name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, e.method, 0, 0, e.crc, len(e.data), e.size, len(name), 0)
        out += name + e.data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, e.method, 0, 0, e.crc, len(e.data), e.size, len(name), 0, 0, 0, 0,
            0, offset,
        )  # fmt: skip
        central += name
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)


def sheet_xml(rows: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{NS}">{dim}'
    return f"{head}<sheetData>{rows}</sheetData></worksheet>".encode()


def workbook_entries(
    sheet: Entry | bytes, *, workbook: Entry | None = None, strings: Entry | None = None
) -> list[Entry]:
    """The parts of a one-sheet workbook (sheet 企业数据), any of which a test may replace."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    rels = f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'  # noqa: E501
    book = f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="企业数据" sheetId="1" r:id="rId1"/></sheets></workbook>'  # noqa: E501
    book_rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    )
    entries = [
        deflated("[Content_Types].xml", types.encode()),
        deflated("_rels/.rels", rels.encode()),
        workbook or deflated("xl/workbook.xml", book.encode()),
        deflated("xl/_rels/workbook.xml.rels", book_rels.encode()),
        sheet if isinstance(sheet, Entry) else deflated("xl/worksheets/sheet1.xml", sheet),
    ]
    return [*entries, strings] if strings else entries


def small_workbook() -> bytes:
    """A real workbook (xlsxwriter): headers in row 3, data from column B, shared strings."""
    out = io.BytesIO()
    with xlsxwriter.Workbook(out, {"in_memory": True}) as book:
        ws = book.add_worksheet("企业数据")
        ws.write_row(2, 1, ["统一社会信用代码", "企业名称", "年度"])
        ws.write_row(3, 1, ["91331082MA2AB3CF7N", "临海市鑫达机械有限公司", 2023])
        ws.write_row(4, 1, ["913310820000000001", "临海市东方阀门厂", 2022])
    return out.getvalue()


SPACES = b" " * MIB
SHEET_TAIL = b"</sheetData></worksheet>"
SHEET_HEAD = sheet_xml("").removesuffix(SHEET_TAIL)
VALUE = '<c r="A1" t="inlineStr"><is><t>a</t></is></c>'


def _members(n: int) -> bytes:
    return zip_bytes(
        workbook_entries(sheet_xml(f'<row r="1">{VALUE}</row>')) + [deflated(f"x/{k}.xml", b"") for k in range(n)]
    )


def _prefixed() -> bytes:
    rows = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row><x:row r="1048576"><x:c r="XFD1048576"><x:v>1</x:v></x:c></x:row>'  # noqa: E501
    return zip_bytes(
        workbook_entries(f'<x:worksheet xmlns:x="{NS}"><x:sheetData>{rows}</x:sheetData></x:worksheet>'.encode())
    )


def _positional() -> bytes:
    rows = "<row><c><v>1</v></c></row>" + "<row/>" * 600_000 + "<row><c><v>2</v></c></row>"
    return zip_bytes(workbook_entries(sheet_xml(rows)))


def _lying() -> bytes:
    """An honest sheet whose directory entry declares 40 bytes: it unpacks to more than it says."""
    rows = f'<row r="1">{VALUE}</row><row r="2"><c r="B2"><v>1</v></c></row>'
    return zip_bytes(workbook_entries(replace(deflated("xl/worksheets/sheet1.xml", sheet_xml(rows)), size=40)))


def _strings() -> bytes:
    sst = deflated(
        "xl/sharedStrings.xml", f'<sst xmlns="{NS}" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>'.encode()
    )
    return zip_bytes(workbook_entries(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), strings=sst))


def _truncated() -> bytes:
    data = small_workbook()
    return data[: len(data) // 2]


BOMBS: dict[str, tuple] = {
    # name: (file name, builder, problem code, HTTP status, a text the English message must hold)
    "A1+XFD1048576": ("xfd.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'))),
        "too_many_rows", 413, "the limit is 500,000 rows"),
    "declared dimension": ("dimension.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row>', "A1:XFD1048576"))), "too_many_rows", 413, "declares the range A1:XFD1048576"),
    "one row, every column": ("wide.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}<c r="XFD1"><v>1</v></c></row>'))), "too_many_columns", 413, "the limit is 1,000 columns"),
    "rows × columns": ("cells.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row><row r="20000"><c r="ALL20000"><v>1</v></c></row>'))),
        "too_many_cells", 413, "20,000 rows × 1,000 columns = 20,000,000 cells"),
    "cell without a reference": ("hidden.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row><row r="600000"><c><v>1</v></c></row>'))), "too_many_rows", 413, "600,000 rows"),
    "namespace prefixes": ("prefixed.xlsx", _prefixed, "too_many_rows", 413, "A1:XFD1048576"),
    "shared strings count": ("strings.xlsx", _strings, "too_many_strings", 413, "4,000,000,000 distinct texts"),
    "member of whitespace": ("member.xlsx", lambda: zip_bytes(workbook_entries(repeated(
        "xl/worksheets/sheet1.xml", (SHEET_HEAD, 1), (SPACES, 600), (SHEET_TAIL, 1)))),
        "part_too_large", 413, "unpacks to 600.0 MB; the limit is 512.0 MB"),
    "compression ratio": ("ratio.xlsx", lambda: zip_bytes(workbook_entries(repeated(
        "xl/worksheets/sheet1.xml", (SHEET_HEAD, 1), (SPACES, 64), (SHEET_TAIL, 1)))),
        "compression_ratio", 422, "the limit is 100:1"),
    "huge workbook.xml": ("book.xlsx", lambda: zip_bytes(workbook_entries(sheet_xml(f'<row r="1">{VALUE}</row>'),
        workbook=repeated("xl/workbook.xml", (SPACES, 600)))), "part_too_large", 413, "xl/workbook.xml"),
    "thousands of members": ("members.xlsx", lambda: _members(3000), "too_many_parts", 413, "the limit is 1,000"),
    "member larger than declared": ("lying.xlsx", _lying, "unreadable_file", 422, "unpacks to more than it declares"),
    "truncated zip": ("truncated.xlsx", _truncated, "unreadable_file", 422, "incomplete"),
    "random bytes": ("random.xlsx", lambda: random.Random(7).randbytes(4096), "unreadable_file", 422,
        "not an Excel workbook"),
    "Excel 97-2003 named .xlsx": ("old.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088),
        "unreadable_file", 422, "Excel 97-2003"),
    "OpenDocument": ("sheet.ods", lambda: zip_bytes([deflated("content.xml", b"<x/>")]), "unsupported_format", 422,
        "save it as an Excel Workbook (*.xlsx)"),
    "CSV rows": ("rows.csv", lambda: b"a\n" * 600_001, "too_many_rows", 413, "600,001 rows"),
    "CSV columns": ("columns.csv", lambda: b"a,b\n" + b"," * 2000 + b"\n", "too_many_columns", 413,
        "line 2 has 2,001 columns"),
}  # fmt: skip


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """Every bomb shape, written once for the module (each under 2 MB on disk, most a few KB)."""
    folder = tmp_path_factory.mktemp("bombs")
    out = {}
    for key, (name, build, *_) in BOMBS.items():
        path = folder / name
        path.write_bytes(build())
        assert path.stat().st_size < 2 * MIB, key
        out[key] = path
    return out


# --- the bombs, through the reader ------------------------------------------------------------------------


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_read_table_when_bomb_given_refuses_it_with_the_limit_named(bombs, bomb):
    """Each bomb shape is refused before any parse: the typed error, its status, and a problem naming the limit."""
    _, _, code, status, text = BOMBS[bomb]
    start = time.perf_counter()
    with pytest.raises(REFUSALS) as caught:
        read_table(bombs[bomb])
    exc = caught.value
    problem = exc.problems[0]
    assert (problem.code, status_of(exc)) == (code, status)
    assert isinstance(exc, SheetTooLarge if status == 413 else InvalidInput)
    assert text in problem.message_en, problem.message_en
    assert problem.message_zh and problem.expected_zh and problem.expected_en and problem.example
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.message_zh.replace(bombs[bomb].name, ""))
    assert time.perf_counter() - start < 10


def test_read_table_when_valid_workbook_given_reads_it_through_the_guard(tmp_path):
    """A real workbook still reads: the header row found below empty rows, letters from B, text kept exactly."""
    path = tmp_path / "ok.xlsx"
    path.write_bytes(small_workbook())
    table = read_table(path)
    assert (table.sheet, table.sheets, table.header_row) == ("企业数据", ("企业数据",), 3)
    assert table.headers == ("统一社会信用代码", "企业名称", "年度") and table.letters == ("B", "C", "D")
    assert table.cells.rows() == [
        ("91331082MA2AB3CF7N", "临海市鑫达机械有限公司", "2023", 4),
        ("913310820000000001", "临海市东方阀门厂", "2022", 5),
    ]


def test_read_table_when_valid_csv_given_reads_it_in_the_child(tmp_path):
    """A GBK CSV with a quoted comma still reads, decoded, with its encoding."""
    path = tmp_path / "ok.csv"
    path.write_bytes('统一社会信用代码,企业名称\n91331082MA2AB3CF7N,"临海市鑫达机械有限公司,分厂"\n'.encode("gbk"))
    table = read_table(path)
    assert table.encoding == "gb18030" and table.cells["c1"].to_list() == ["临海市鑫达机械有限公司,分厂"]


def test_read_table_when_far_cell_is_formatted_but_empty_reads_it(tmp_path):
    """A self-closing, styled empty cell at XFD1048576 holds no value: calamine skips it, so the guard does too."""
    path = tmp_path / "formatted.xlsx"
    path.write_bytes(zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row><row r="1048576"><c r="XFD1048576" s="1"/></row>'))))  # fmt: skip
    assert read_table(path).headers == ("a",)


def test_read_table_when_cells_have_no_references_places_them_as_calamine_does(tmp_path):
    """Rows and cells written without ``r`` take the next position; the guard counts them the same way."""
    path = tmp_path / "positional.xlsx"
    rows = '<row><c t="inlineStr"><is><t>h</t></is></c><c/><c><v>3</v></c></row><row/><row><c/><c><v>5</v></c></row>'
    path.write_bytes(zip_bytes(workbook_entries(sheet_xml(rows))))
    table = read_table(path)
    assert table.letters == ("A", "B", "C") and table.cells.rows() == [(None, "5", None, 3)]
    with pytest.raises(SheetTooLarge) as caught:
        read_table(path, limits=replace(DEFAULTS, max_rows=2))
    assert caught.value.problems[0].value == "A1:C3"
    bomb = tmp_path / "rows.xlsx"
    bomb.write_bytes(_positional())  # 3.6 MB of <row/> compresses ~1000:1, so open the ratio check to reach the rows
    with pytest.raises(SheetTooLarge) as caught:
        read_table(bomb, limits=replace(DEFAULTS, max_ratio=10**6))
    assert caught.value.problems[0].code == "too_many_rows" and "600,002 rows" in caught.value.problems[0].message_en


def test_read_table_when_limits_are_small_refuses_just_above_them(tmp_path):
    """Each limit holds at its number: 1 MiB of zeros unpacks past a 512 KiB member limit, a 3-row sheet passes 3."""
    path = tmp_path / "zeros.xlsx"
    path.write_bytes(zip_bytes(workbook_entries(repeated("xl/worksheets/sheet1.xml", (SPACES, 1)))))
    with pytest.raises(SheetTooLarge) as caught:
        read_table(path, limits=replace(DEFAULTS, max_member_bytes=MIB // 2))
    assert caught.value.problems[0].code == "part_too_large" and "512.0 KB" in caught.value.problems[0].message_zh
    three = tmp_path / "three.xlsx"
    three.write_bytes(zip_bytes(workbook_entries(sheet_xml("".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in (1, 2, 3))))))  # fmt: skip
    assert read_table(three, limits=replace(DEFAULTS, max_rows=3)).cells.height == 2
    with pytest.raises(SheetTooLarge):
        read_table(three, limits=replace(DEFAULTS, max_rows=2))
    small = tmp_path / "small.csv"
    small.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(SheetTooLarge) as caught:
        read_table(small, limits=replace(DEFAULTS, csv_max_bytes=7))
    assert caught.value.problems[0].code == "file_too_large" and "7 B" in caught.value.problems[0].message_en
    with pytest.raises(SheetTooLarge) as caught:
        read_table(small, limits=replace(DEFAULTS, max_cells=3))
    assert (
        caught.value.problems[0].code == "too_many_cells"
        and "2 rows × 2 columns = 4 cells" in caught.value.problems[0].message_en
    )


def test_read_table_when_csv_is_larger_than_the_byte_limit_refuses_it_unread(tmp_path):
    """A (sparse) 65 MiB CSV passes the 64 MiB limit: refused from its size, without reading it."""
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(65 * MIB)
    with pytest.raises(SheetTooLarge) as caught:
        read_table(path)
    assert caught.value.problems[0].code == "file_too_large" and "64.0 MB" in caught.value.problems[0].message_en


def test_load_enterprise_years_when_bomb_given_reports_it_as_the_one_problem(bombs):
    """The import gets the refusal as its report (one problem, located, bilingual), not an exception."""
    result = load_enterprise_years(bombs["A1+XFD1048576"])
    assert not result.ok and [p.code for p in result.problems] == ["too_many_rows"]
    row = result.report_rows()[0]
    assert row["where"] == "企业数据!A1:XFD1048576" and row["sheet"] == "企业数据" and "500,000" in row["message_zh"]


# --- the bombs, through the CLI ---------------------------------------------------------------------------


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_import_check_when_bomb_given_exits_2_with_the_bilingual_problem(bombs, bomb):
    """tenglong import-check on each bomb: exit 2, the problem's code and both messages, never a traceback."""
    result = CliRunner().invoke(main, ["import-check", str(bombs[bomb])])
    code, text = BOMBS[bomb][2], BOMBS[bomb][4]
    assert result.exit_code == 2, result.output
    assert f"[{code}]" in result.output and text in result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output


@pytest.mark.parametrize("bomb", ["A1+XFD1048576", "truncated zip", "CSV columns"])
def test_evaluate_when_bomb_given_exits_2_listing_the_problem(bombs, bomb):
    """tenglong evaluate reads through the same guard: exit 2, the problem on stderr, nothing on stdout."""
    result = CliRunner().invoke(main, ["evaluate", str(bombs[bomb]), "--year", "2023"])
    assert result.exit_code == 2 and f"[{BOMBS[bomb][2]}]" in result.stderr and not result.stdout
    assert "Traceback" not in result.output


def test_import_check_when_xfd_bomb_run_as_a_process_exits_2_and_survives(bombs):
    """The real command on the 1.6 KB workbook that aborted the server: exit 2, a clear message, no traceback."""
    tenglong = Path(sys.executable).with_name("tenglong")
    done = subprocess.run([tenglong, "import-check", str(bombs["A1+XFD1048576"])], capture_output=True, text=True)
    assert done.returncode == 2 and "[too_many_rows]" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert bombs["A1+XFD1048576"].stat().st_size < 2000


# --- the child process ---------------------------------------------------------------------------------------


def test_read_table_when_parse_needs_more_memory_than_allowed_kills_only_the_child(tmp_path, caplog):
    """A sheet the guard lets through (limits opened wide) whose dense grid needs ~3 GB: the child hits its 2 GiB
    address space and dies; the caller gets read_out_of_memory (413) naming the limit, and a warning is logged."""
    path = tmp_path / "grid.xlsx"
    path.write_bytes(zip_bytes(workbook_entries(sheet_xml(
        f'<row r="1">{VALUE}</row><row r="100000"><c r="ALL100000"><v>1</v></c></row>'))))  # fmt: skip
    wide_open = replace(DEFAULTS, max_cells=10**12)
    with caplog.at_level(logging.WARNING, logger="tenglong.import"), pytest.raises(SheetTooLarge) as caught:
        read_table(path, limits=wide_open)
    problem = caught.value.problems[0]
    assert problem.code == "read_out_of_memory" and "2.0 GB" in problem.message_en
    assert "too large or malformed" in problem.message_en and "文件过大或格式异常" in problem.message_zh
    assert any(r.name == "tenglong.import" and "read_out_of_memory" in r.getMessage() for r in caplog.records)


def test_read_table_when_child_memory_is_tiny_reports_the_memory_limit(tmp_path):
    """A normal workbook with a 64 MiB child: the child cannot even load its parser; the answer names 64.0 MB."""
    path = tmp_path / "ok.xlsx"
    path.write_bytes(small_workbook())
    with pytest.raises(SheetTooLarge) as caught:
        read_table(path, limits=replace(DEFAULTS, child_memory_bytes=64 * MIB))
    assert caught.value.problems[0].code == "read_out_of_memory" and "64.0 MB" in caught.value.problems[0].message_en


def test_read_table_when_child_outlives_its_seconds_is_killed_and_reported(tmp_path, monkeypatch):
    """A child that hangs (a sitecustomize that sleeps) is killed at the 1 s wall clock: read_timeout, promptly."""
    (tmp_path / "sitecustomize.py").write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    path = tmp_path / "ok.csv"
    path.write_bytes(b"a,b\n1,2\n")
    start = time.perf_counter()
    with pytest.raises(SheetTooLarge) as caught:
        read_table(path, limits=replace(DEFAULTS, child_seconds=1))
    assert caught.value.problems[0].code == "read_timeout" and "1 seconds" in caught.value.problems[0].message_en
    assert time.perf_counter() - start < 10


# --- fuzzing: a table or a clear error, never anything else ---------------------------------------------------

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FUZZ_LIMITS = replace(DEFAULTS, child_seconds=20)


@pytest.fixture
def rss_start() -> int:
    """The test process's peak RSS (KiB) before the examples run."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _outcome(path: Path) -> str:
    """Read ``path``: "table", or the code of a clear error; anything else fails the test. Bounded in time."""
    start = time.perf_counter()
    try:
        table = read_table(path, limits=FUZZ_LIMITS)
        assert isinstance(table, RawTable)
        outcome = "table"
    except ReadError as exc:
        outcome = exc.code
    except REFUSALS as exc:
        assert exc.problems and exc.problems[0].message_zh and exc.problems[0].message_en
        outcome = exc.problems[0].code
    assert time.perf_counter() - start < FUZZ_LIMITS.child_seconds + 10
    return outcome


def _rss_growth_mb(start: int) -> float:
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) / 1024


@FUZZ
@given(data=st.binary(max_size=4096))
def test_read_table_when_random_bytes_named_xlsx_answers_clearly(tmp_path_factory, data):
    """Random bytes named .xlsx: a clear refusal or read error, never another exception."""
    path = tmp_path_factory.mktemp("fuzz") / "random.xlsx"
    path.write_bytes(data)
    assert _outcome(path) != "table"


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_read_table_when_valid_workbook_is_mutated_answers_clearly(tmp_path_factory, rss_start, edits, cut):
    """A real workbook with bytes changed and maybe truncated: a table or a clear error; the parent's memory stays
    bounded (the parse runs in the child)."""
    data = bytearray(small_workbook())
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % len(data)]
    path = tmp_path_factory.mktemp("fuzz") / "mutated.xlsx"
    path.write_bytes(bytes(data))
    _outcome(path)
    assert _rss_growth_mb(rss_start) < 500


@FUZZ
@given(
    text=st.text(alphabet=st.sampled_from(list('ab,"\n\r 统一,码\x00é')), max_size=300),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1", "shift_jis"]),
)
def test_read_table_when_csv_has_any_text_and_encoding_answers_clearly(tmp_path_factory, rss_start, text, encoding):
    """CSV text of quotes, separators and line breaks in any encoding: a table, or a clear error (an encoding that is
    neither UTF-8 nor GB18030, or quoting no parser can follow)."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    assert _outcome(path) in {"table", "unreadable_encoding", "unreadable_file"}
    assert _rss_growth_mb(rss_start) < 500
