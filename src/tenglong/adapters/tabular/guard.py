"""Check a user's spreadsheet before anything parses it: sizes, zip bombs and cell-extent bombs.

calamine (through fastexcel) allocates a dense rows × columns grid for a sheet, so a 1.6 KB .xlsx with one
value at A1 and one at XFD1048576 asks for 17 billion cells and aborts the process (tafia/calamine#693,
ToucanToco/fastexcel#487); a ``<sst uniqueCount="4000000000">`` makes it reserve 96 GB the same way; and a zip
member may unpack to gigabytes. Nothing here trusts the file, decompresses more than the limits allow, or
builds an XML tree:

1. the file size (:attr:`SheetLimits.max_file_bytes`);
2. the zip's central directory, read here from its own bytes (the stdlib ``zipfile`` would first build an
   object per entry, however many there are): the entry count, each entry's declared uncompressed size and
   their total, and each entry's compression ratio (entries above 1 MiB). Encrypted entries, compression
   other than stored/deflate and duplicate names are refused;
3. the sheet to be read, inflated here in 1 MiB chunks and never beyond its declared size: its declared
   ``<dimension ref>``, then every cell that can hold a value (``<c r="XFD1048576">``, not the self-closing
   ``<c r="B2" s="1"/>`` of a formatted empty cell, which calamine skips; a cell written without ``r`` takes
   the next position, as calamine counts it) — the extent calamine would allocate — refused as soon as it
   passes a limit. Cells written the usual way (``<c r="B2"…>``) are counted by two C-level regular
   expressions per chunk; a chunk where they find fewer cells than there are ``</c>`` (a cell without ``r``,
   attributes in another order), or a sheet whose tags carry a namespace prefix, is walked tag by tag. The
   scan costs about 1 s of CPU per 100,000 rows × 19 columns (69 MiB of XML). The same pass finds the row
   of the first value (the reader needs it);
4. the shared-strings part's ``uniqueCount`` (at most :attr:`SheetLimits.max_cells`).

What passes is still parsed in a child process with memory and time limits (:mod:`.sandbox`): a part
this module does not inflate whose declared size lies, a prefixed cell slipped into an unprefixed sheet, or
a shape nobody thought of costs the child, never the server.

Formats: .xlsx and .xlsm are checked as above. .xls (Excel 97–2003) has no compression and at most
65,536 rows × 256 columns a sheet: it is size-checked and parsed only in the child. .xlsb and .ods are
refused, asking for .xlsx: their cells cannot be counted without a parser (ODS repeats a cell by
attribute, so one element can claim a billion). CSV is bounded by bytes, lines and the separators on the
widest line here, then parsed in the child, which checks the exact rows and columns.

Every refusal is a typed error: :class:`SheetTooLarge` (413, a size limit) or
:class:`~tenglong.core.errors.InvalidInput` (422), each holding one :class:`~tenglong.core.errors.Problem`
with the place, the bad value, the limit, what to do and an example, in Chinese and English.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from operator import methodcaller
from pathlib import Path
from typing import Any, BinaryIO

from ...core.errors import InvalidInput, Problem, TooLarge

log = logging.getLogger("tenglong.import")

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
RATIO_FLOOR = MIB
"""Members that unpack to at most this many bytes are not ratio-checked (they cannot hurt)."""
CHUNK = MIB
"""Bytes inflated at a time."""
MAX_TAG = MIB
"""A single XML tag longer than this is refused as malformed (the scan keeps one tag across chunks)."""


@dataclass(frozen=True)
class SheetLimits:
    """Every bound on a user's spreadsheet; the defaults fit real county files several times over.

    A year of the demo county is ~2,600 rows × 19 columns (the 100,000-row benchmark file is 12 MiB, its sheet
    XML 69 MiB, compressed 5.7:1, read in ~200 MB); a real county file may reach 100,000 rows.

    Attributes:
        max_file_bytes: the .xlsx/.xlsm/.xls file.
        max_members: entries in the zip (an Excel workbook has a few dozen).
        max_member_bytes: one entry, unpacked.
        max_total_bytes: every entry together, unpacked.
        max_ratio: unpacked ÷ packed size of an entry above 1 MiB (real sheets: 4–15).
        max_rows: rows of the sheet's extent (first to last row holding a value).
        max_columns: columns of the extent.
        max_cells: rows × columns of the extent (what calamine allocates); also the shared strings' uniqueCount.
        csv_max_bytes: a CSV file.
        csv_max_rows: lines of a CSV file.
        csv_max_columns: fields of a CSV line.
        child_memory_bytes: address space of the child that parses (RLIMIT_AS).
        child_seconds: CPU seconds (RLIMIT_CPU) and wall-clock seconds of that child.
    """

    max_file_bytes: int = 64 * MIB
    max_members: int = 1_000
    max_member_bytes: int = 512 * MIB
    max_total_bytes: int = 1 * GIB
    max_ratio: int = 100
    max_rows: int = 500_000
    max_columns: int = 1_000
    max_cells: int = 10_000_000
    csv_max_bytes: int = 64 * MIB
    csv_max_rows: int = 500_000
    csv_max_columns: int = 1_000
    child_memory_bytes: int = 2 * GIB
    child_seconds: int = 60

    @classmethod
    def from_settings(cls, settings: Any) -> SheetLimits:
        """The limits of the ``TENGLONG_SHEET_*`` settings (MB are MiB, as for ``TENGLONG_MAX_UPLOAD_MB``)."""
        s = settings
        return cls(
            max_file_bytes=s.sheet_max_file_mb * MIB,
            max_members=s.sheet_max_members,
            max_member_bytes=s.sheet_max_member_mb * MIB,
            max_total_bytes=s.sheet_max_total_mb * MIB,
            max_ratio=s.sheet_max_ratio,
            max_rows=s.sheet_max_rows,
            max_columns=s.sheet_max_columns,
            max_cells=s.sheet_max_cells,
            csv_max_bytes=s.sheet_csv_max_mb * MIB,
            csv_max_rows=s.sheet_csv_max_rows,
            csv_max_columns=s.sheet_csv_max_columns,
            child_memory_bytes=s.sheet_child_memory_mb * MIB,
            child_seconds=s.sheet_child_seconds,
        )

    def as_dict(self) -> dict[str, int]:
        """Plain dict (sent to the child)."""
        return asdict(self)


def default_limits() -> SheetLimits:
    """The limits of the process's settings; the built-in defaults when the settings do not validate."""
    from ...settings import get_settings

    try:
        return SheetLimits.from_settings(get_settings())
    except ValueError:  # e.g. production without a secret key: the sheet limits still apply, at their defaults
        log.warning("settings do not validate; the built-in sheet limits apply")
        return SheetLimits()


# --- the answers ---------------------------------------------------------------------------

_REMEDY_ZH = "请删除数据区域以外多余的行和列（包括只设了格式的空单元格）后重新保存，或把数据分成几个文件。"
_REMEDY_EN = (
    "Delete the rows and columns beyond your data (including empty cells that only carry formatting) "
    "and save again, or split the data into several files."
)
_RESAVE_ZH = "请在 Excel 或 WPS 中打开后“另存为” Excel 工作簿 (*.xlsx) 再上传。"
_RESAVE_EN = "Open it in Excel or WPS, save it as an Excel Workbook (*.xlsx) and upload that."

MESSAGES: dict[str, tuple[str, str, str, str]] = {
    "unreadable_file": (
        "{where}：无法读取（{reason_zh}）。",
        "{where}: cannot be read ({reason_en}).",
        "Excel工作簿(.xlsx)或CSV文件",
        "an Excel workbook (.xlsx) or a CSV file",
    ),
    "unsupported_format": (
        "{where}：不能读取{kind_zh}格式的文件。" + _RESAVE_ZH,
        "{where}: {kind_en} files cannot be read. " + _RESAVE_EN,
        "Excel工作簿(.xlsx)、Excel 97-2003工作簿(.xls)或CSV文件",
        "an Excel workbook (.xlsx), an Excel 97-2003 workbook (.xls) or a CSV file",
    ),
    "file_too_large": (
        "{where}：文件大小为{size}，超过上限{limit}。请删去无关的工作表、图片和空行后重新保存，或把数据分成几个文件。",
        "{where}: the file is {size}; the limit is {limit}. Delete unrelated sheets, pictures and empty rows and save "
        "it again, or split the data into several files.",
        "不超过{limit}的文件",
        "a file of at most {limit}",
    ),
    "too_many_parts": (
        "{where}：文件包含{count}个内部部件，上限为{limit}个（普通的Excel工作簿只有几十个）。" + _RESAVE_ZH,
        "{where}: the file holds {count} internal parts; the limit is {limit} (an ordinary Excel workbook has a "
        "few dozen). " + _RESAVE_EN,
        "不超过{limit}个内部部件",
        "at most {limit} internal parts",
    ),
    "part_too_large": (
        "{where}：内部部件 {part} 解压后为{size}，超过上限{limit}。" + _REMEDY_ZH,
        "{where}: the internal part {part} unpacks to {size}; the limit is {limit}. " + _REMEDY_EN,
        "每个内部部件解压后不超过{limit}",
        "each internal part at most {limit} unpacked",
    ),
    "workbook_too_large": (
        "{where}：文件解压后共{size}，超过上限{limit}。" + _REMEDY_ZH,
        "{where}: the file unpacks to {size} in all; the limit is {limit}. " + _REMEDY_EN,
        "解压后共不超过{limit}",
        "at most {limit} unpacked in all",
    ),
    "compression_ratio": (
        "{where}：内部部件 {part} 的压缩比为{ratio}:1（压缩后{packed}，解压后{size}），超过上限{limit}:1；"
        "正常的Excel文件约为10:1，如此高的压缩比是“压缩炸弹”的特征。" + _RESAVE_ZH,
        "{where}: the internal part {part} is compressed {ratio}:1 ({packed} packed, {size} unpacked); the limit is "
        "{limit}:1. An ordinary Excel file is about 10:1; such a ratio is the mark of a 'zip bomb'. " + _RESAVE_EN,
        "压缩比不超过{limit}:1",
        "a compression ratio of at most {limit}:1",
    ),
    "too_many_rows": (
        "{where}：{basis_zh}共{rows}行，超过上限{limit}行。" + _REMEDY_ZH,
        "{where}: {basis_en}{rows} rows; the limit is {limit} rows. " + _REMEDY_EN,
        "不超过{limit}行",
        "at most {limit} rows",
    ),
    "too_many_columns": (
        "{where}：{basis_zh}共{columns}列，超过上限{limit}列。" + _REMEDY_ZH,
        "{where}: {basis_en}{columns} columns; the limit is {limit} columns. " + _REMEDY_EN,
        "不超过{limit}列",
        "at most {limit} columns",
    ),
    "too_many_cells": (
        "{where}：{basis_zh}共{rows}行×{columns}列＝{cells}个单元格，超过上限{limit}个。" + _REMEDY_ZH,
        "{where}: {basis_en}{rows} rows × {columns} columns = {cells} cells; the limit is {limit} cells. " + _REMEDY_EN,
        "行数×列数不超过{limit}",
        "rows × columns at most {limit}",
    ),
    "too_many_strings": (
        "{where}：共享文本表声明有{count}个不同的文本，超过上限{limit}个（与单元格上限相同）。" + _RESAVE_ZH,
        "{where}: the shared-strings table declares {count} distinct texts; the limit is {limit} (the cell "
        "limit). " + _RESAVE_EN,
        "不超过{limit}个不同的文本",
        "at most {limit} distinct texts",
    ),
    "read_out_of_memory": (
        "{where}：文件过大或格式异常，无法读取：读取{sheet_zh}所需的内存超过上限{limit}。" + _REMEDY_ZH,
        "{where}: the file is too large or malformed to read: reading {sheet_en} needed more than the memory "
        "limit of {limit}. " + _REMEDY_EN,
        "读取时所需内存不超过{limit}的文件",
        "a file that reads within {limit} of memory",
    ),
    "read_timeout": (
        "{where}：文件过大或格式异常，无法读取：读取{sheet_zh}超过了{limit}秒的时间上限。" + _REMEDY_ZH,
        "{where}: the file is too large or malformed to read: reading {sheet_en} took longer than the limit of "
        "{limit} seconds. " + _REMEDY_EN,
        "{limit}秒内能读完的文件",
        "a file that reads within {limit} seconds",
    ),
    "read_crashed": (
        "{where}：文件过大或格式异常，无法读取（读取{sheet_zh}时读取程序异常退出）。" + _RESAVE_ZH,
        "{where}: the file is too large or malformed to read (the reader stopped abnormally on {sheet_en}). "
        + _RESAVE_EN,
        "Excel保存的正常工作簿",
        "an ordinary workbook saved by Excel",
    ),
}
"""Bilingual texts of the refusals (the import's catalogue, ``services/data/messages.py``, includes them)."""

SIZE_CODES = frozenset(
    {
        "file_too_large",
        "too_many_parts",
        "part_too_large",
        "workbook_too_large",
        "too_many_rows",
        "too_many_columns",
        "too_many_cells",
        "too_many_strings",
        "read_out_of_memory",
        "read_timeout",
    }
)
"""Codes answered 413 (a size limit was passed); every other refusal is 422."""

_EXAMPLES = {
    "too_many_parts": "20",
    "compression_ratio": "10:1",
    "too_many_rows": "A1:T2601",
    "too_many_columns": "A1:T2601",
    "too_many_cells": "A1:T2601",
    "too_many_strings": "20000",
}


class SheetTooLarge(TooLarge):
    """A size limit of :class:`SheetLimits` was passed (413); ``problems`` holds the one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message_zh, problem.message_en)
        self.problems = [problem]


REFUSALS = (SheetTooLarge, InvalidInput)
"""What the guard and the sandbox raise for a file they refuse."""


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def refusal(code: str, where: str, value: Any = None, **fields: Any) -> SheetTooLarge | InvalidInput:
    """The typed error of a refused file: :class:`SheetTooLarge` for :data:`SIZE_CODES`, else ``InvalidInput``.

    >>> exc = refusal("too_many_rows", "企业数据!A1:A600000", "A1:A600000", rows=600000, limit=500000)
    >>> type(exc).__name__, exc.code, exc.problems[0].message_en.split(".")[0]
    ('SheetTooLarge', 'too_large', '企业数据!A1:A600000: 600,000 rows; the limit is 500,000 rows')
    """
    shown = {k: f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v for k, v in fields.items()}
    texts = _Blank({"where": where, "value": "" if value is None else value, **shown})
    message_zh, message_en, expected_zh, expected_en = (t.format_map(texts) for t in MESSAGES[code])
    context = {"sheet": fields["sheet"]} if fields.get("sheet") else {}
    problem = Problem(
        code,
        where,
        value,
        expected_zh,
        expected_en,
        _EXAMPLES.get(code, "企业数据.xlsx"),
        message_zh,
        message_en,
        context,
    )
    log.info("refused %s: %s (value %r)", where, code, value)
    return SheetTooLarge(problem) if code in SIZE_CODES else InvalidInput([problem])


def unreadable(where: str, reason_zh: str, reason_en: str) -> InvalidInput:
    """The ``unreadable_file`` refusal (422) with its reason."""
    return refusal("unreadable_file", where, None, reason_zh=reason_zh, reason_en=reason_en)  # type: ignore[return-value]


def size_text(n: int) -> str:
    """Bytes for people.

    >>> size_text(512), size_text(1536), size_text(12_533_432), size_text(3 * GIB)
    ('512 B', '1.5 KB', '12.0 MB', '3.0 GB')
    """
    for unit, scale in (("GB", GIB), ("MB", MIB), ("KB", KIB)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def column_number(letters: str | bytes) -> int:
    """1-based column of Excel letters.

    >>> column_number("A"), column_number(b"T"), column_number("XFD")
    (1, 20, 16384)
    """
    text = letters.decode("ascii") if isinstance(letters, bytes) else letters
    n = 0
    for ch in text.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    """Excel letters of a 1-based column (``column_letters(16384) == "XFD"``)."""
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def sheet_ref(sheet: str, ref: str) -> str:
    """``企业数据!A1:T9``; a sheet name with spaces or symbols is quoted as Excel does."""
    name = sheet if re.fullmatch(r"[\w.]+", sheet) else "'" + sheet.replace("'", "''") + "'"
    return f"{name}!{ref}"


# --- file size ---------------------------------------------------------------------------------


def check_file_size(path: Path, limit: int, where: str) -> int:
    """The file's size, or :class:`SheetTooLarge` (``file_too_large``) above ``limit`` bytes."""
    size = path.stat().st_size
    if size > limit:
        raise refusal("file_too_large", where, size_text(size), size=size_text(size), limit=size_text(limit))
    return size


# --- the zip's central directory ------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One zip entry, as the central directory declares it."""

    name: str
    method: int
    flags: int
    crc: int
    packed: int
    size: int
    offset: int


@dataclass(frozen=True)
class Book:
    """An .xlsx that passed :func:`check_workbook`: its entries and sheets.

    Attributes:
        path: the file.
        where: the name shown in messages.
        members: entry name → :class:`Member`.
        sheets: sheet name → relationship id, in workbook order.
    """

    path: Path
    where: str
    members: dict[str, Member]
    sheets: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        """The sheet names, in workbook order."""
        return list(self.sheets)


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory (22 bytes)
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # 56 bytes
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory header (46 bytes)
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_NOT_XLSX = ("文件不是Excel工作簿(.xlsx)，或已损坏", "the file is not an Excel workbook (.xlsx), or it is damaged")
_CFB = (
    "这是旧版Excel 97-2003工作簿或设有打开密码的文件，却以.xlsx命名；请去掉打开密码，另存为Excel工作簿(*.xlsx)",
    "it is an Excel 97-2003 workbook, or a password-protected file, named .xlsx; remove the password and save it "
    "as an Excel Workbook (*.xlsx)",
)
_TRUNCATED = (
    "文件不完整，可能上传或复制时中断；请重新保存后再上传",
    "the file is incomplete (was the upload or copy interrupted?); save it again and upload it",
)


def _damaged(where: str, part: str, what_zh: str, what_en: str) -> InvalidInput:
    return unreadable(
        where, f"文件已损坏：内部部件 {part} {what_zh}", f"the file is damaged: the internal part {part} {what_en}"
    )


def _central_directory(f: BinaryIO, size: int, limits: SheetLimits, where: str) -> list[Member]:
    """The entries, checked for count, sizes and ratio as they are read (nothing is inflated)."""
    tail_len = min(size, _EOCD.size + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        f.seek(0)
        head = f.read(8)
        reason = _CFB if head.startswith(_CFB_MAGIC) else _TRUNCATED if head.startswith(b"PK\x03\x04") else _NOT_XLSX
        raise unreadable(where, *reason)
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, at)
    end = size - tail_len + at  # where the central directory must end
    if 0xFFFF in (count, disk, cd_disk) or 0xFFFFFFFF in (cd_size, cd_offset):  # zip64
        loc = end - _EOCD64_LOCATOR.size
        if loc < 0:
            raise unreadable(where, *_TRUNCATED)
        f.seek(loc)
        sig, _, record_at, _ = _EOCD64_LOCATOR.unpack(f.read(_EOCD64_LOCATOR.size))
        if sig != b"PK\x06\x07" or record_at + _EOCD64.size > loc:
            raise unreadable(where, *_NOT_XLSX)
        f.seek(record_at)
        fields = _EOCD64.unpack(f.read(_EOCD64.size))
        if fields[0] != b"PK\x06\x06":
            raise unreadable(where, *_NOT_XLSX)
        disk, cd_disk, count, cd_size, cd_offset = fields[4], fields[5], fields[7], fields[8], fields[9]
        end = record_at
    if disk or cd_disk:
        raise unreadable(where, *_NOT_XLSX)  # a multi-volume archive
    if count > limits.max_members:
        raise refusal("too_many_parts", where, count, count=count, limit=limits.max_members)
    start = end - cd_size
    shift = start - cd_offset  # bytes prepended to the archive, as zipfile allows
    if start < 0 or shift < 0:
        raise unreadable(where, *_TRUNCATED)
    f.seek(start)
    directory = f.read(cd_size)
    members: list[Member] = []
    seen: set[str] = set()
    total = 0
    pos = 0
    while pos + _CENTRAL.size <= len(directory):
        head = _CENTRAL.unpack_from(directory, pos)
        if head[0] != b"PK\x01\x02":
            raise unreadable(where, *_NOT_XLSX)
        flags, method, crc, packed, unpacked = head[3], head[4], head[7], head[8], head[9]
        name_len, extra_len, comment_len, offset = head[10], head[11], head[12], head[16]
        raw_name = directory[pos + 46 : pos + 46 + name_len]
        extra = directory[pos + 46 + name_len : pos + 46 + name_len + extra_len]
        pos += 46 + name_len + extra_len + comment_len
        if len(members) >= limits.max_members:
            raise refusal(
                "too_many_parts",
                where,
                f">{limits.max_members:,}",
                count=f">{limits.max_members:,}",
                limit=limits.max_members,
            )
        unpacked, packed, offset = _zip64(extra, unpacked, packed, offset)
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if flags & 0x1:
            raise unreadable(
                where,
                "文件设有密码，请去掉密码后另存为.xlsx",
                "it is encrypted; remove the password and save it as .xlsx",
            )
        if method not in (0, 8):
            raise unreadable(
                where,
                f"内部部件 {name} 使用了Excel不用的压缩方式（{method}）",
                f"the internal part {name} uses a compression Excel does not use ({method})",
            )
        if name in seen:
            raise unreadable(
                where,
                f"有两个同名的内部部件 {name}，文件可能是伪造的",
                f"two internal parts are named {name}; the file may be forged",
            )
        seen.add(name)
        if unpacked > limits.max_member_bytes:
            raise refusal(
                "part_too_large",
                where,
                size_text(unpacked),
                part=name,
                size=size_text(unpacked),
                limit=size_text(limits.max_member_bytes),
            )
        total += unpacked
        if total > limits.max_total_bytes:
            raise refusal(
                "workbook_too_large",
                where,
                size_text(total),
                size=f"{size_text(total)}+",
                limit=size_text(limits.max_total_bytes),
            )
        if unpacked > RATIO_FLOOR and unpacked > limits.max_ratio * max(packed, 1):
            ratio = unpacked // max(packed, 1)
            raise refusal(
                "compression_ratio",
                where,
                f"{ratio:,}:1",
                part=name,
                ratio=ratio,
                packed=size_text(packed),
                size=size_text(unpacked),
                limit=limits.max_ratio,
            )
        if (method == 0 and packed != unpacked) or offset + shift + packed > start:
            raise _damaged(where, name, "的大小记录与内容不符", "does not match its recorded size")
        members.append(Member(name, method, flags, crc, packed, unpacked, offset + shift))
    if pos != len(directory):
        raise unreadable(where, *_TRUNCATED)
    return members


def _zip64(extra: bytes, unpacked: int, packed: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the zip64 extra field (id 1), where the 32-bit fields are saturated."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if kind != 1:
            continue
        values = [struct.unpack_from("<Q", body, k)[0] for k in range(0, len(body) - 7, 8)]
        if unpacked == 0xFFFFFFFF and values:
            unpacked = values.pop(0)
        if packed == 0xFFFFFFFF and values:
            packed = values.pop(0)
        if offset == 0xFFFFFFFF and values:
            offset = values.pop(0)
    return unpacked, packed, offset


def inflate(f: BinaryIO, member: Member, where: str) -> Iterator[bytes]:
    """The member's bytes in chunks of at most 1 MiB, never more than it declares, its CRC checked at the end."""
    f.seek(member.offset)
    header = f.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _damaged(where, member.name, "的位置记录有误", "is not where the directory says")
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    f.seek(member.offset + 30 + name_len + extra_len)
    left, produced, crc = member.packed, 0, 0
    inflater = zlib.decompressobj(-15) if member.method == 8 else None
    try:
        while True:
            if inflater is not None and inflater.unconsumed_tail:
                data = inflater.decompress(inflater.unconsumed_tail, CHUNK)
            elif left:
                raw = f.read(min(left, CHUNK))
                if not raw:
                    raise unreadable(where, *_TRUNCATED)
                left -= len(raw)
                data = raw if inflater is None else inflater.decompress(raw, CHUNK)
            else:
                break
            produced += len(data)
            if produced > member.size:
                raise _damaged(where, member.name, "解压后超过其记录的大小", "unpacks to more than it declares")
            crc = zlib.crc32(data, crc)
            if data:
                yield data
            if inflater is not None and inflater.eof:
                break
    except zlib.error as exc:
        raise _damaged(where, member.name, "的压缩数据有误", "holds corrupt compressed data") from exc
    if (inflater is not None and not inflater.eof) or produced != member.size or crc != member.crc:
        raise _damaged(
            where, member.name, "的内容与其记录的大小或校验值不符", "does not match its recorded size or checksum"
        )


def segments(chunks: Iterable[bytes], where: str, boundary: bytes = b"") -> Iterator[bytes]:
    """XML in pieces that never cut a tag, and end after the last ``boundary`` (e.g. ``</c>``) when there is one.

    What follows the cut moves to the next piece. Without a boundary in sight, the cut is before an unfinished
    tag, and only that tag moves on (at most :data:`MAX_TAG` bytes: text need not be kept).
    """
    carry = b""
    for chunk in chunks:
        buf = carry + chunk if carry else chunk
        end = buf.rfind(boundary) if boundary else -1
        if end >= 0:
            end += len(boundary)
            buf, carry = buf[:end], buf[end:]
        else:
            cut = buf.rfind(b"<")
            if cut >= 0 and buf.find(b">", cut) < 0:
                buf, carry = buf[:cut], buf[cut:]
                if len(carry) > MAX_TAG:
                    raise unreadable(
                        where, "文件格式异常（XML标记过长）", "the file is malformed (an XML tag is too long)"
                    )
            else:
                carry = b""
        if buf:
            yield buf
    if carry:
        yield carry


# --- the workbook's parts ------------------------------------------------------------------------

_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_SHEETS_END = re.compile(rb"</(?:[\w.-]+:)?sheets\s*>|<(?:[\w.-]+:)?sheets\s*/>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(rb"([\w.:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SST = re.compile(rb"<(?:[\w.-]+:)?sst[\s>/]([^>]*)")
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def _attributes(raw: bytes) -> dict[str, str]:
    """Attributes of a tag by local name (``r:id`` → ``id``), entities decoded; the first of a name wins."""
    out: dict[str, str] = {}
    for name, double, single in _ATTRIBUTE.findall(raw):
        local = name.decode("utf-8", "replace").rsplit(":", 1)[-1]
        out.setdefault(local, html.unescape((double or single).decode("utf-8", "replace")))
    return out


def _prefixed_id(raw: bytes) -> str | None:
    """The ``r:id`` of a ``<sheet>`` (whatever the prefix), not ``sheetId``."""
    for name, double, single in _ATTRIBUTE.findall(raw):
        if name.endswith(b":id"):
            return html.unescape((double or single).decode("utf-8", "replace"))
    return None


def check_workbook(path: Path, limits: SheetLimits, where: str) -> Book:
    """Check an .xlsx/.xlsm's size and central directory and read its sheet list (streamed, bounded).

    Raises:
        SheetTooLarge: a size limit passed.
        InvalidInput: not a readable workbook (damaged, truncated, encrypted, forged, an .xls named .xlsx…).
    """
    size = check_file_size(path, limits.max_file_bytes, where)
    with path.open("rb") as f:
        members = {m.name: m for m in _central_directory(f, size, limits, where)}
        book = members.get(WORKBOOK)
        if book is None:
            raise unreadable(
                where,
                "文件不是有效的Excel工作簿（缺少工作簿部件）",
                "it is not a valid Excel workbook (the workbook part is missing)",
            )
        sheets: dict[str, str] = {}
        for seg in segments(inflate(f, book, where), where):
            for raw in _SHEET_TAG.findall(seg):
                attrs = _attributes(raw)
                if "name" in attrs:
                    sheets.setdefault(attrs["name"], _prefixed_id(raw) or "")
                if len(sheets) > limits.max_members:
                    raise unreadable(
                        where,
                        "工作表数量超过文件的部件数，文件可能是伪造的",
                        "it lists more sheets than it has parts; it may be forged",
                    )
            if _SHEETS_END.search(seg):
                break
    return Book(path, where, members, sheets)


def _sheet_part(f: BinaryIO, book: Book, sheet: str) -> Member | None:
    """The member holding ``sheet``, through the workbook's relationships."""
    rid = book.sheets.get(sheet)
    rels = book.members.get(WORKBOOK_RELS)
    if not rid or rels is None:
        return None
    for seg in segments(inflate(f, rels, book.where), book.where):
        for raw in _RELATIONSHIP.findall(seg):
            attrs = _attributes(raw)
            if attrs.get("Id") == rid:
                target = attrs.get("Target", "")
                part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
                return book.members.get(posixpath.normpath(part))
    return None


# --- the sheet's cells -------------------------------------------------------------------------------

_CELL_COLUMN = re.compile(rb'<c r="([A-Za-z]+)\d+"[^>/]*>')
_CELL_ROW = re.compile(rb'<c r="[A-Za-z]+(\d+)"[^>/]*>')
_STANDARD_REF = re.compile(rb'([A-Za-z]+)(\d+)"')
_ROW_NUMBER = re.compile(rb'(\d+)"')
_VALUE = re.compile(rb"<(?:[\w.-]+:)?(?:v|is)[\s/>]")
_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c|v|is)(?=[\s/>])([^>]*)>")
_R = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([^\"']*)[\"']")
_REF = re.compile(rb"\$?([A-Za-z]+)\$?(\d+)")
_DIMENSION = re.compile(rb"<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData[\s/>]")
_PREFIXED_ROOT = re.compile(rb"<[\w.-]+:worksheet[\s>]")


@dataclass
class SheetScan:
    """What the scan of a sheet found.

    Attributes:
        top, bottom, left, right: the extent of the cells that can hold a value (1-based; 0 when none).
        first_value_row: the Excel row of the first cell holding a value (document order), or None.
        declared: the ``<dimension ref>`` text, if any.
    """

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0
    first_value_row: int | None = None
    declared: str | None = None
    row: int = 0  # the current <row> (for cells written without r)
    col: int = 0  # the last cell's column in the current row
    last_cell_row: int = 0  # the row of the last cell start seen

    def extend(self, rows: Iterable[int], cols: Iterable[int]) -> None:
        """Widen the extent to these rows and columns."""
        rows, cols = list(rows), list(cols)
        if not rows or not cols:
            return
        self.top = min(rows) if not self.top else min(self.top, *rows)
        self.bottom = max(self.bottom, *rows)
        self.left = min(cols) if not self.left else min(self.left, *cols)
        self.right = max(self.right, *cols)

    @property
    def extent(self) -> str:
        """``A1:XFD1048576``."""
        return f"{column_letters(self.left)}{self.top}:{column_letters(self.right)}{self.bottom}"


def _scan_standard(seg: bytes, scan: SheetScan) -> bool:
    """A piece whose cells are written ``<c r="B2"…>``: two C-level passes, no loop over cells.

    Every cell that may hold a value closes with ``</c>``; when the pattern found fewer such cells than there are
    ``</c>`` (a cell without ``r``, attributes in another order…), nothing is recorded and False is returned.
    """
    columns = _CELL_COLUMN.findall(seg)
    if len(columns) != seg.count(b"</c>"):
        return False
    scan.extend(set(map(int, set(_CELL_ROW.findall(seg)))), {column_number(c) for c in set(columns)})
    if scan.first_value_row is None and (value := _VALUE.search(seg)):
        at = seg.rfind(b'<c r="', 0, value.start())
        ref = _STANDARD_REF.match(seg, at + 6) if at >= 0 else None
        scan.first_value_row = int(ref.group(2)) if ref else scan.last_cell_row or 1
    last_cell, last_row = seg.rfind(b'<c r="'), seg.rfind(b'<row r="')
    if last_row >= 0 and (number := _ROW_NUMBER.match(seg, last_row + 8)):
        scan.row = int(number.group(1))
    if last_cell >= 0 and (ref := _STANDARD_REF.match(seg, last_cell + 6)):
        scan.col, scan.last_cell_row = column_number(ref.group(1)), int(ref.group(2))
    if last_row > last_cell:
        scan.col = 0
    return True


def _scan_general(seg: bytes, scan: SheetScan) -> None:
    """Any other piece (namespace prefixes, cells or rows without ``r``…): tag by tag, as calamine counts."""
    rows: list[int] = []
    cols: list[int] = []
    for m in _TAG.finditer(seg):
        name, attrs = m.group(1), m.group(2)
        if name == b"row":
            r = _R.search(attrs)
            scan.row = int(r.group(1)) if r and r.group(1).isdigit() else scan.row + 1
            scan.col = 0
        elif name == b"c":
            r = _R.search(attrs)
            ref = _REF.fullmatch(r.group(1)) if r else None
            if ref:
                col, row = column_number(ref.group(1)), int(ref.group(2))
            else:
                col, row = scan.col + 1, max(scan.row, 1)
            scan.col, scan.last_cell_row = col, row
            if not attrs.rstrip().endswith(b"/"):
                rows.append(row)
                cols.append(col)
        elif scan.first_value_row is None:
            scan.first_value_row = scan.last_cell_row or 1
    scan.extend(rows, cols)


def _check_extent(
    rows: int, cols: int, limits: SheetLimits, where: str, value: str, basis_zh: str, basis_en: str, sheet: str
) -> None:
    common = {"basis_zh": basis_zh, "basis_en": basis_en, "sheet": sheet}
    if rows > limits.max_rows:
        raise refusal("too_many_rows", where, value, rows=rows, limit=limits.max_rows, **common)
    if cols > limits.max_columns:
        raise refusal("too_many_columns", where, value, columns=cols, limit=limits.max_columns, **common)
    if rows * cols > limits.max_cells:
        raise refusal(
            "too_many_cells", where, value, rows=rows, columns=cols, cells=rows * cols, limit=limits.max_cells, **common
        )


def _check_dimension(ref: bytes, sheet: str, limits: SheetLimits) -> None:
    parts = [_REF.fullmatch(p.strip()) for p in ref.split(b":")]
    if not parts or len(parts) > 2 or not all(parts):
        return  # not a range: calamine ignores it too
    (c1, r1), (c2, r2) = [(column_number(p.group(1)), int(p.group(2))) for p in (parts[0], parts[-1])]
    rows, cols = abs(r2 - r1) + 1, abs(c2 - c1) + 1
    text = ref.decode("ascii", "replace")
    _check_extent(
        rows,
        cols,
        limits,
        sheet_ref(sheet, text),
        text,
        f"工作表「{sheet}」声明的数据范围为{text}，",
        f"the sheet '{sheet}' declares the range {text}: ",
        sheet,
    )


def check_sheet(book: Book, sheet: str, limits: SheetLimits) -> SheetScan:
    """Scan the sheet's XML (streamed, bounded) for its declared and actual extent, and the shared strings.

    Raises:
        SheetTooLarge: the extent (declared or actual) or the shared strings pass a limit.
        InvalidInput: the sheet's part is missing or damaged.
    """
    scan = SheetScan()
    with book.path.open("rb") as f:
        _check_shared_strings(f, book, limits)
        part = _sheet_part(f, book, sheet)
        if part is None:
            raise unreadable(
                book.where, f"找不到工作表「{sheet}」的数据", f"the data of the sheet '{sheet}' is missing"
            )
        in_data, prefixed = False, None
        for seg in segments(inflate(f, part, book.where), book.where, b"</c>"):
            if prefixed is None:  # <x:worksheet>: every tag is prefixed, and the fast patterns do not apply
                prefixed = _PREFIXED_ROOT.search(seg) is not None
            if not in_data:
                if scan.declared is None and (dim := _DIMENSION.search(seg)):
                    scan.declared = dim.group(1).decode("ascii", "replace")
                    _check_dimension(dim.group(1), sheet, limits)
                in_data = _SHEET_DATA.search(seg) is not None
            if prefixed or not _scan_standard(seg, scan):
                _scan_general(seg, scan)
            if scan.top:
                rows, cols = scan.bottom - scan.top + 1, scan.right - scan.left + 1
                far = f"{column_letters(scan.right)}{scan.bottom}"
                _check_extent(
                    rows,
                    cols,
                    limits,
                    sheet_ref(sheet, scan.extent),
                    scan.extent,
                    f"工作表「{sheet}」的数据范围为{scan.extent}（最远的单元格为{far}），",
                    f"the sheet '{sheet}' has data in {scan.extent} (the farthest cell is {far}): ",
                    sheet,
                )
    return scan


def _check_shared_strings(f: BinaryIO, book: Book, limits: SheetLimits) -> None:
    """calamine reserves ``uniqueCount`` strings up front: a forged count is a memory bomb of its own."""
    for member in book.members.values():
        if not member.name.lower().endswith("sharedstrings.xml"):
            continue
        for seg in segments(inflate(f, member, book.where), book.where):
            if tag := _SST.search(seg):
                attrs = _attributes(tag.group(1))
                count = attrs.get("uniqueCount", "0")
                if count.isdigit() and int(count) > limits.max_cells:
                    raise refusal("too_many_strings", book.where, int(count), count=int(count), limit=limits.max_cells)
                break


# --- CSV ---------------------------------------------------------------------------------------------


def check_csv(path: Path, limits: SheetLimits, where: str) -> None:
    """Bound a CSV while reading it, before any parser sees it: bytes, lines, and separators on a line.

    Lines and commas per line are what a text editor shows; quoted line breaks and quoted commas make them
    upper bounds of records and fields (the child checks the exact rows and columns after parsing).
    Neither GB18030 nor UTF-8 uses the bytes of ``\\n`` or ``,`` inside a character, so no decoding is needed.
    """
    check_file_size(path, limits.csv_max_bytes, where)
    lines = widest = widest_line = carry = read = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            read += len(chunk)
            if read > limits.csv_max_bytes:  # the file grew since stat
                raise refusal(
                    "file_too_large",
                    where,
                    f">{size_text(limits.csv_max_bytes)}",
                    size=f">{size_text(limits.csv_max_bytes)}",
                    limit=size_text(limits.csv_max_bytes),
                )
            pieces = chunk.split(b"\n")
            commas = list(map(methodcaller("count", b","), pieces))
            commas[0] += carry
            for k, n in enumerate(commas[:-1]):
                if n > widest:
                    widest, widest_line = n, lines + k + 1
            lines += len(pieces) - 1
            carry = commas[-1]
            last = pieces[-1]
    if read and last.strip():
        lines += 1
        if carry > widest:
            widest, widest_line = carry, lines
    columns = widest + 1 if read else 0
    if lines > limits.csv_max_rows:
        raise refusal(
            "too_many_rows",
            where,
            lines,
            rows=lines,
            limit=limits.csv_max_rows,
            basis_zh="文件",
            basis_en="the file has ",
        )
    if columns > limits.csv_max_columns:
        raise refusal(
            "too_many_columns",
            where,
            columns,
            columns=columns,
            limit=limits.csv_max_columns,
            basis_zh=f"第{widest_line:,}行",
            basis_en=f"line {widest_line:,} has ",
        )
    if lines * columns > limits.max_cells:
        raise refusal(
            "too_many_cells",
            where,
            lines * columns,
            rows=lines,
            columns=columns,
            cells=lines * columns,
            limit=limits.max_cells,
            basis_zh="文件",
            basis_en="the file has ",
        )


def check_frame(height: int, width: int, limits: SheetLimits, sheet: str | None, csv: bool) -> dict[str, Any] | None:
    """The refusal (code and fields) of a parsed table larger than the limits, or None (run by the child)."""
    max_rows = limits.csv_max_rows if csv else limits.max_rows
    max_cols = limits.csv_max_columns if csv else limits.max_columns
    basis_zh = "文件" if csv else f"工作表「{sheet}」"
    basis_en = "the file has " if csv else f"the sheet '{sheet}' has "
    common = {"basis_zh": basis_zh, "basis_en": basis_en, "sheet": sheet}
    if height > max_rows:
        return {"code": "too_many_rows", "value": height, "rows": height, "limit": max_rows, **common}
    if width > max_cols:
        return {"code": "too_many_columns", "value": width, "columns": width, "limit": max_cols, **common}
    if height * width > limits.max_cells:
        cells = height * width
        return {
            "code": "too_many_cells",
            "value": cells,
            "rows": height,
            "columns": width,
            "cells": cells,
            "limit": limits.max_cells,
            **common,
        }
    return None
