"""The worst hostile inputs against a real ``tenglong serve`` process (not the in-process TestClient of
tests/web/test_upload_bombs.py): the 1.6 KB workbook with a value in XFD1048576, the three decompression bombs, and a
300 MB chunked body to ``POST /api/v1/session``. The server must answer each with its refusal, stay alive, keep
answering ``GET /login``, and keep its peak resident memory (``VmHWM``) under ``RSS_BOUND_MB``.

The server is started by ``tenglong.bench.attacks.Server`` (the one ``tenglong bench attacks`` uses): a free port, a
fresh SQLite demo county in a temporary folder. No browser is needed, but the test is marked ``browser`` like every
test of this folder (tests/e2e/conftest.py), so it runs with the other end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenglong.bench.attacks import (
    MB,
    Server,
    World,
    post_chunked,
    post_file,
    ratio_bomb,
    sign_in,
    whitespace_sheet_bomb,
    workbook_xml_bomb,
    xfd_workbook,
)

RSS_BOUND_MB = 1536
"""The server's peak resident memory over its whole life, start included. Measured: about 190 MB after start on the
demo county, at most 400 MB while it creates and evaluates the county (three years), and no more than a few MB for
each bomb, which is refused from the zip's directory or a scan with a byte budget, never unpacked. Had a bomb been
parsed, the XFD1048576 grid would need tens of GB and a 600 MB part at least 600 MB more: 1.5 GB lies well above
what the server needs and well below what any bomb would cost, so a bomb that got through fails here."""
BOMBS = [
    # (file name, builder, status of the calculator batch, problem code)
    ("xfd.xlsx", xfd_workbook, 413, "too_many_rows"),
    ("whitespace.xlsx", whitespace_sheet_bomb, 413, "part_too_large"),
    ("ratio.xlsx", ratio_bomb, 422, "compression_ratio"),
    ("book.xlsx", workbook_xml_bomb, 413, "part_too_large"),
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[World]:
    """A real server on its own demo county, with the admin's and the enterprise's sessions."""
    server = Server(tmp_path_factory.mktemp("hostile"))
    try:
        yield World(server, sign_in(server.port, "admin"), sign_in(server.port, "enterprise"), iter(()))
    finally:
        server.stop()


def test_server_when_the_worst_bombs_are_posted_stays_up_answers_and_stays_under_the_memory_bound(hostile):
    """Each bomb to the calculator batch (its refusal) and to the import (stored, reported invalid), then 300 MB
    chunked to the sign-in (413 after the first megabyte): the process lives, /login answers, VmHWM < 1.5 GB."""
    server = hostile.server
    for name, build, status, code in BOMBS:
        data = build()
        r = post_file(server.port, "/calculator/batch", name, data, hostile.enterprise)
        assert (r.status, r.json()["problems"][0]["code"]) == (status, code), r.body[:300]
        up = post_file(server.port, "/api/v1/imports", name, data, hostile.admin)
        assert up.status == 202, up.body[:300]
        report = hostile.wait_import(up.json()["id"])
        assert report["status"] == "invalid" and report["counts_by_code"] == {code: 1}, report
        assert server.alive(), f"the server died on {name}; see {server.log}"
    streamed = post_chunked(server.port, "/api/v1/session", 300 * MB)
    assert streamed.status == 413 and streamed.sent < 16 * MB, streamed
    assert server.proc.poll() is None and server.alive()
    peak = server.memory_mb("VmHWM")
    assert 0 < peak < RSS_BOUND_MB, f"peak RSS {peak:.0f} MB"
