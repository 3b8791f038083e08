"""Parse a user's spreadsheet in a child process with memory, CPU and wall-clock limits.

The guard (:mod:`.guard`) refuses the shapes we know; this is for the ones we do not. The parse itself
(calamine through fastexcel, or polars' CSV reader) runs in ``python -m tenglong.adapters.tabular.sandbox``,
which first limits itself — address space (``RLIMIT_AS``, :attr:`SheetLimits.child_memory_bytes`), CPU seconds
(``RLIMIT_CPU``), file size (``RLIMIT_FSIZE``, the same bytes), no core file — and volunteers to the kernel's
OOM killer (``oom_score_adj`` 1000), then writes the table to an Arrow IPC file in a private temporary folder,
which the parent reads with polars. The limits are set by the child on itself, not in a ``preexec_fn``: the
server has threads, and code run between fork and exec can deadlock on a lock another thread held.
The child is started before the guard's slow checks and loads its interpreter and libraries while they run;
it opens nothing until the parent sends the job on its standard input once the checks pass (:class:`Sandbox`).
The parent then waits at most :attr:`SheetLimits.child_seconds` (and kills it) and runs at most
:data:`MAX_CHILDREN` children at once, so that concurrent uploads cannot add up to more memory than that.

A child that dies — killed, out of memory, out of time, crashed — is a clear error to the user ("文件过大或格式
异常，无法读取 / the file is too large or malformed to read", with the limit hit when it is known) and a
warning on the ``tenglong.import`` logger; never the server's death. The child also checks the parsed table
against the row, column and cell limits before writing it (the only check an .xls or a CSV gets after the
guard's bounds).

Cost: starting a child and loading polars and fastexcel takes ~0.3 s of CPU, mostly hidden behind the guard's
scan; writing and reading the table back ~0.1 s per 100,000 rows (docs/benchmarks.md has the measurements).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from .guard import SheetLimits, refusal, size_text

log = logging.getLogger("tenglong.import")

MAX_CHILDREN = 2
"""Children parsing at once in this process (each may use ``child_memory_bytes``); more wait their turn."""
_SLOTS = threading.BoundedSemaphore(MAX_CHILDREN)
_TABLE, _META, _STDERR = "table.arrow", "meta.json", "stderr.txt"
EXIT_READ_ERROR, EXIT_NO_MEMORY, EXIT_REFUSED = 3, 4, 5
_CHILD_ENV = {"POLARS_MAX_THREADS": "1", "RAYON_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "RUST_BACKTRACE": "0"}
"""One worker thread and few malloc arenas keep the child's address space close to what it really uses."""
_MEMORY_WORDS = (
    "memory allocation",
    "MemoryError",
    "out of memory",
    "Cannot allocate memory",
    "failed to map segment",
    "capacity overflow",
)


@dataclass(frozen=True)
class Parsed:
    """What the child parsed.

    Attributes:
        frame: every cell as text (no header row taken out), or an empty frame.
        names: the workbook's sheets (Excel), as calamine lists them.
        sheet: the sheet read (Excel).
        positions: the 0-based sheet column of each frame column (Excel).
        encoding: the CSV's encoding.
    """

    frame: pl.DataFrame
    names: tuple[str, ...] = ()
    sheet: str | None = None
    positions: tuple[int, ...] = ()
    encoding: str | None = None


class Sandbox:
    """A child process that parses one file: started first, told what to parse once the guard's checks pass.

    The child limits itself, then loads its interpreter, polars and fastexcel (~0.3 s of CPU) while the parent
    checks the file; it opens nothing until the job arrives on its standard input, so no byte of the file
    reaches calamine before the checks pass. Leaving the ``with`` block without :meth:`parse` (a refusal) kills it.

    Example:
        >>> with Sandbox(SheetLimits(), "企业数据.xlsx") as box:  # doctest: +SKIP
        ...     guard.check_sheet(book, "企业数据", limits)  # the child starts meanwhile
        ...     parsed = box.parse("excel", path, sheet="企业数据")
    """

    def __init__(self, limits: SheetLimits, where: str) -> None:
        self.limits, self.where = limits, where
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> Sandbox:
        _SLOTS.acquire()
        try:
            self._tmp = tempfile.TemporaryDirectory(prefix="tenglong-sheet-")
            self.out = Path(self._tmp.name)
            self._stderr = (self.out / _STDERR).open("wb")
            setup = json.dumps({"limits": self.limits.as_dict(), "out": str(self.out)})
            self._proc = subprocess.Popen(  # noqa: S603 - our own module, run by this interpreter, arguments as a list
                [sys.executable, "-m", "tenglong.adapters.tabular.sandbox", setup],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env={**os.environ, **_CHILD_ENV},
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._proc is not None:
                if self._proc.poll() is None:
                    self._proc.kill()
                self._proc.wait()
                if self._proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        self._proc.stdin.close()
            if hasattr(self, "_stderr"):
                self._stderr.close()
            if hasattr(self, "_tmp"):
                self._tmp.cleanup()
        finally:
            self._proc = None
            _SLOTS.release()

    def parse(self, kind: str, path: Path, *, sheet: str | None = None, wanted: str | None = None) -> Parsed:
        """Parse ``path`` in the child and read back the table.

        Args:
            kind: ``"excel"`` or ``"csv"``.
            path: the file, through the guard.
            sheet: the sheet to read (Excel), or None to choose it among calamine's sheet names with ``wanted``.
            wanted: the sheet asked for (when ``sheet`` is None).

        Raises:
            ReadError: the parser refused the file (corrupt, unknown sheet, unknown encoding).
            SheetTooLarge: the child ran out of memory or time, or the parsed table is larger than the limits.
            InvalidInput: the child crashed.
        """
        from .reader import ReadError

        proc = self._proc
        if proc is None or proc.stdin is None:
            raise RuntimeError("Sandbox.parse outside its with block")
        job = {"kind": kind, "path": str(path), "sheet": sheet, "wanted": wanted}
        with contextlib.suppress(OSError):  # a child that already died: its status tells why
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        try:
            status: int | None = proc.wait(timeout=self.limits.child_seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
        meta = _read_json(self.out / _META)
        if status == 0 and meta is not None:
            frame = pl.read_ipc(self.out / _TABLE) if meta.get("width") else pl.DataFrame()
            names, positions = tuple(meta.get("names", ())), tuple(meta.get("positions", ()))
            return Parsed(frame, names, meta.get("sheet"), positions, meta.get("encoding"))
        if status == EXIT_READ_ERROR and meta is not None:
            raise ReadError(meta["error"], **meta.get("detail", {}))
        if status == EXIT_REFUSED and meta is not None:
            fields = dict(meta["refuse"])
            raise refusal(fields.pop("code"), self.where, fields.pop("value", None), **fields)
        self._stderr.flush()
        tail = (self.out / _STDERR).read_bytes()[-2000:].decode("utf-8", "replace")
        code, limit = _diagnose(status, tail, self.limits)
        log.warning(
            "the sandboxed %s reader died on %s: %s (exit status %s, limit %s); stderr ends: %s",
            kind,
            path,
            code,
            status,
            limit,
            tail.strip()[-500:],
        )
        label_zh, label_en = (f"工作表「{sheet}」", f"the sheet '{sheet}'") if sheet else ("文件", "the file")
        raise refusal(code, self.where, None, sheet=sheet, sheet_zh=label_zh, sheet_en=label_en, limit=limit)


def parse_in_child(
    kind: str, path: Path, limits: SheetLimits, where: str, *, sheet: str | None = None, wanted: str | None = None
) -> Parsed:
    """Parse ``path`` in a limited child process started for it (see :class:`Sandbox`)."""
    with Sandbox(limits, where) as box:
        return box.parse(kind, path, sheet=sheet, wanted=wanted)


def _diagnose(status: int | None, stderr: str, limits: SheetLimits) -> tuple[str, Any]:
    """The refusal code of a dead child and the limit it hit (``read_crashed`` when unknown)."""
    memory = ("read_out_of_memory", size_text(limits.child_memory_bytes))
    if status is None or status == -signal.SIGXCPU:
        return "read_timeout", limits.child_seconds
    if status in (EXIT_NO_MEMORY, -signal.SIGKILL, -signal.SIGXFSZ):  # SIGKILL: the OOM killer chose the child
        return memory
    if any(word in stderr for word in _MEMORY_WORDS):
        return memory
    return "read_crashed", None


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# --- the child ------------------------------------------------------------------------------------------


def _limit_self(limits: dict[str, int]) -> None:
    """Apply the child's limits to this process, before anything parses."""
    memory, seconds = limits["child_memory_bytes"], limits["child_seconds"]
    for kind, soft, hard in (
        (resource.RLIMIT_AS, memory, memory),
        (resource.RLIMIT_FSIZE, memory, memory),
        (resource.RLIMIT_CPU, seconds, seconds + 5),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        _, ceiling = resource.getrlimit(kind)
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(kind, (soft, hard))
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the memory limit still holds
        Path("/proc/self/oom_score_adj").write_text("1000")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")


def child_main(argv: list[str]) -> int:
    """The child: limit itself, load the parsers, wait for the job, parse, check the table's size, write it.

    Exit codes: 0 (written, or no job: the parent refused the file), :data:`EXIT_READ_ERROR`,
    :data:`EXIT_NO_MEMORY`, :data:`EXIT_REFUSED`; anything else is a crash.
    """
    setup = json.loads(argv[0])
    _limit_self(setup["limits"])
    import fastexcel  # noqa: F401 - loaded now, while the parent checks the file

    from . import reader
    from .guard import check_frame

    raw = sys.stdin.buffer.read()
    if not raw:
        return 0
    job = json.loads(raw)
    out = Path(setup["out"])
    limits = SheetLimits(**setup["limits"])
    try:
        if job["kind"] == "csv":
            frame, encoding = reader.parse_csv(Path(job["path"]))
            meta: dict[str, Any] = {"encoding": encoding}
            sheet = None
        else:
            names, sheet, frame, positions = reader.parse_excel(Path(job["path"]), job["sheet"], job["wanted"])
            meta = {"names": names, "sheet": sheet, "positions": positions}
        too_large = check_frame(frame.height, frame.width, limits, sheet, job["kind"] == "csv")
        if too_large is not None:
            _write_json(out / _META, {"refuse": too_large})
            return EXIT_REFUSED
        if frame.width:
            frame.write_ipc(out / _TABLE, compression="uncompressed")
        _write_json(out / _META, {**meta, "width": frame.width})
    except reader.ReadError as exc:
        _write_json(out / _META, {"error": exc.code, "detail": exc.detail})
        return EXIT_READ_ERROR
    except MemoryError:
        return EXIT_NO_MEMORY
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
