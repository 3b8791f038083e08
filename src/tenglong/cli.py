"""The ``tenglong`` command line. Each command parses, calls one service, renders."""

from __future__ import annotations

import sys
from typing import Any

import click

from .core.errors import InvalidInput, PolicyError


def _print_problems(exc: InvalidInput) -> None:
    click.echo(f"错误 / Error: {exc.message_zh} {exc.message_en}", err=True)
    for k, p in enumerate(exc.problems, 1):
        click.echo(f"{k}. [{p.code}] {p.where}", err=True)
        click.echo(f"   {p.message_zh}", err=True)
        click.echo(f"   {p.message_en}", err=True)
        if p.value is not None:
            click.echo(f"   值 / value: {p.value!r}", err=True)
        if p.expected_zh or p.expected_en:
            click.echo(f"   应为 / expected: {p.expected_zh} / {p.expected_en}", err=True)
        if p.example:
            click.echo(f"   示例 / example: {p.example}", err=True)


@click.group()
@click.version_option(package_name="tenglong")
def main() -> None:
    """腾笼 tenglong — 临政发〔2022〕22号 as executable rules, the 亩均 evaluation and the campaign platform."""


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--no-explain", is_flag=True, help="Leave out the explanations.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the explanation lines.",
)
@click.option("--compact", is_flag=True, help="One-line JSON.")
@click.option(
    "--max-entities",
    type=click.IntRange(min=0),
    default=None,
    help="Most entities (all kinds together) in the request [default: 200,000, as the web; 0: no limit].",
)
def calculate(file, no_explain: bool, lang: str, compact: bool, max_entities: int | None) -> None:
    """Answer a calculation request (JSON FILE, or - for stdin) on stdout.

    A variable set to null is requested; every requested value is filled in,
    with its clause-cited explanation unless --no-explain. On bad input the
    exit code is 2, stdout stays empty and stderr lists the problems (the
    first 1,000, then how many more): text that is not strict JSON (not UTF-8,
    NaN, duplicate keys, numbers of more than 30 digits, nesting deeper than
    64 …) included.
    """
    from .services.calculation.contract import MAX_ENTITIES, dumps, parse_json
    from .services.calculation.contract import calculate as run

    limit = MAX_ENTITIES if max_entities is None else (max_entities or None)
    try:
        result = run(parse_json(file.read()), explain=not no_explain, lang=lang, max_entities=limit)
    except InvalidInput as exc:
        _print_problems(exc)
        sys.exit(2)
    except PolicyError as exc:
        click.echo(f"错误 / Error: {exc.message_zh} {exc.message_en}", err=True)
        sys.exit(2)
    click.echo(dumps(result, indent=None if compact else 2))


@main.command()
@click.option(
    "--entity",
    type=click.Choice(["enterprises", "projects", "land_transfers", "mergers", "land_sales", "county_years"]),
    help="Only this entity kind.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def variables(entity: str | None, as_json: bool) -> None:
    """List the variables of the contract: entity, name, role, unit, clause, zh/en labels."""
    from .services.calculation.catalogue import variable_rows

    rows = variable_rows(entity)
    if as_json:
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "entity", "variable", "role", "type", "unit", "default", "clause", "中文", "English", show_lines=False
    )
    for r in rows:
        table.add_row(
            r["entity"], r["name"], r["role"], r["type"], r["unit"], r["default"], r["clause"] or "", r["zh"], r["en"]
        )
    Console(width=220).print(table)


@main.command("policy")
@click.argument("clause", required=False)
@click.option("--parameter", "parameter", help="Show one parameter (e.g. tech_renovation.major_rate) and its clause.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
def policy_command(clause: str | None, parameter: str | None, lang: str) -> None:
    """The policy text: every clause, or one clause with the rules, parameters and variables that implement it.

    Each parameter shows its clause, so a reader can go from a clause to its
    numbers and back (--parameter).
    """
    from .services.calculation.catalogue import clause_table, clause_text, parameter_text

    try:
        lines = (
            parameter_text(parameter, lang)
            if parameter
            else clause_text(clause, lang)
            if clause
            else clause_table(lang)
        )
    except KeyError as exc:
        click.echo(f"错误 / Error: 找不到 / not found: {exc.args[0]}", err=True)
        sys.exit(2)
    for line in lines:
        click.echo(line)


@main.group()
def bench() -> None:
    """Benchmarks (measure and print; never part of the test suite)."""


@bench.command("engine")
@click.option("--n", "n", type=int, default=1_000_000, show_default=True, help="Number of projects.")
@click.option(
    "--reference-n",
    type=int,
    default=None,
    help="Rows for the per-row Decimal reference (default min(n, 100000)); rows/s is extrapolated.",
)
@click.option("--seed", type=int, default=1, show_default=True)
def bench_engine(n: int, reference_n: int | None, seed: int) -> None:
    """Time every project rule over N generated projects, against the Decimal reference."""
    from .bench.engine import engine_benchmark

    for line in engine_benchmark(n, reference_n, seed):
        click.echo(line)


@bench.command("evaluate")
@click.option(
    "--n", "n", type=int, default=1_000_000, show_default=True, help="Enterprise-years (one year, half 规上)."
)
@click.option("--reference-n", type=int, default=None, help="Firms for the per-row reference (default min(n, 50000)).")
@click.option("--seed", type=int, default=1, show_default=True)
def bench_evaluate(n: int, reference_n: int | None, seed: int) -> None:
    """Time the full 亩均 evaluation of N enterprise-years against the per-row reference."""
    from .bench.evaluation import evaluate_benchmark

    for line in evaluate_benchmark(n, reference_n, seed):
        click.echo(line)


@bench.command("pages")
@click.option("--repeat", type=int, default=50, show_default=True, help="Requests per page.")
@click.option("--database-url", default=None, help="Use this database (default: a fresh SQLite demo county).")
def bench_pages(repeat: int, database_url: str | None) -> None:
    """Median server time of the dashboard, an enterprise profile and other pages on the demo county."""
    from .bench.web import pages_benchmark

    for line in pages_benchmark(repeat, database_url):
        click.echo(line)


@bench.command("simulate")
@click.option("--firms", type=int, default=100_000, show_default=True, help="Enterprise-years per data year.")
@click.option("--projects", type=int, default=200_000, show_default=True, help="Projects of the situation.")
@click.option("--repeat", type=int, default=5, show_default=True, help="Runs of each comparison.")
@click.option("--points", type=int, default=50, show_default=True, help="Points of the sweep.")
def bench_simulate(firms: int, projects: int, repeat: int, points: int) -> None:
    """Time a reform against the baseline (rules only, and a quota reform) and a sweep over a synthetic county."""
    from .bench.simulate import simulate_benchmark

    for line in simulate_benchmark(firms, projects, repeat, points):
        click.echo(line)


@bench.command("reports")
@click.option("--repeat", type=int, default=5, show_default=True, help="Runs of each report.")
@click.option("--database-url", default=None, help="Use this database (default: a fresh SQLite demo county).")
def bench_reports(repeat: int, database_url: str | None) -> None:
    """Time to produce the monthly bulletin (county and town), the quarterly contest and the annual awards, PDF and
    XLSX, on the demo county."""
    from .bench.reports import reports_benchmark

    for line in reports_benchmark(repeat, database_url):
        click.echo(line)


@bench.command("api")
@click.option("--n", "n", type=int, default=10_000, show_default=True, help="Projects in the largest request.")
@click.option("--database-url", default=None, help="Use this database (default: a fresh SQLite demo county).")
def bench_api(n: int, database_url: str | None) -> None:
    """Time POST /api/v1/calculate with N/4, N/2 and N projects through the web app."""
    from .bench.web import api_benchmark

    for line in api_benchmark(n, database_url):
        click.echo(line)


@bench.command("calculate")
@click.option("--n", "n", type=int, default=100_000, show_default=True, help="Number of projects in the request file.")
@click.option("--explain/--no-explain", default=False, show_default=True)
def bench_calculate(n: int, explain: bool) -> None:
    """Time `tenglong calculate` end to end (JSON text in, JSON text out) for N projects."""
    from .bench.engine import calculate_benchmark

    for line in calculate_benchmark(n, explain):
        click.echo(line)


@main.command()
@click.option("--clause", help="Only the cases of this clause.")
@click.option("-v", "--verbose", is_flag=True)
def cases(clause: str | None, verbose: bool) -> None:
    """Run the policy cases (policy/cases/*.yaml) and report each."""
    from .services.calculation.cases import run_cases

    failures = 0
    total = 0
    for result in run_cases(clause):
        total += 1
        if not result.ok:
            failures += 1
            click.echo(f"FAIL {result.file}::{result.name}")
            for line in result.messages:
                click.echo(f"     {line}")
        elif verbose:
            click.echo(f"ok   {result.file}::{result.name}")
    click.echo(f"{total - failures}/{total} cases pass")
    sys.exit(1 if failures else 0)


def _print_skipped(loaded) -> None:
    """With --skip-invalid: which rows were left out and why (stderr), and ignored columns."""
    if loaded.skipped:
        click.echo(
            f"注意 / Note: 已跳过 {len(loaded.skipped)} 行有错误的数据 / "
            f"skipped {len(loaded.skipped)} row(s) with errors (--skip-invalid):",
            err=True,
        )
        for k, p in enumerate(loaded.problems, 1):
            click.echo(f"{k}. [{p.code}] {p.message_zh}", err=True)
            click.echo(f"   {p.message_en}", err=True)
    for w in loaded.warnings:
        click.echo(f"注意 / Note: [{w.code}] {w.message_zh} / {w.message_en}", err=True)


def _print_evaluation(ev, lang: str) -> None:
    """The class summary, the county figures against the targets and the benchmarks, as rich tables."""
    from rich.console import Console
    from rich.table import Table

    from .services.evaluation.evaluate import benchmark_table, summary_table, target_table

    zh = lang == "zh"
    console = Console(width=max(Console().width, 100))
    method = ev.method_title or ("默认方法（参数 mujun.*）" if zh else "default method (parameters mujun.*)")
    console.print(
        f"[bold]临海市 {ev.year} 年度亩均效益综合评价[/bold]  评价方法：{method}"
        if zh
        else f"[bold]Linhai {ev.year}: per-mu efficiency evaluation[/bold]  method: {method}"
    )
    tables = (
        ("分类结果（家）" if zh else "firms by class", summary_table(ev.result, lang), False),
        (
            "全市规上亩均效益与目标（附件 二）" if zh else "county figures against the targets (annex A.2)",
            target_table(ev.result, lang),
            True,
        ),
    )
    for title, rows, coloured in tables:
        table = Table(*rows[0], title=title, title_justify="left")
        for *cells, last in rows[1:]:
            colour = {"是": "green", "yes": "green", "否": "red", "no": "red"}.get(last) if coloured else None
            table.add_row(*cells, f"[{colour}]{last}[/{colour}]" if colour else last)
        console.print(table)
    head = ["指标", "组别", "基准值", "单位"] if zh else ["indicator", "group", "benchmark", "unit"]
    table = Table(*head, title="评价基准值" if zh else "benchmarks used", title_justify="left")
    for label, group, value, unit in benchmark_table(ev.result, lang):
        table.add_row(label, group, "—" if value is None else f"{value:.6g}", unit)
    console.print(table)


@main.command()
@click.argument("data", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--year",
    type=int,
    required=True,
    help="Data year to evaluate (earlier consecutive years in DATA feed D streaks and A.2).",
)
@click.option(
    "--method",
    "method_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Method YAML overriding mujun.* parameters.",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the results: .xlsx (workbook), .csv or .json.")
@click.option("--sheet", help="Sheet of an XLSX DATA file (default: 企业数据, else the first).")
@click.option("--skip-invalid", is_flag=True, help="Leave out rows with errors (and list them) instead of stopping.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the printout and the workbook.",
)
def evaluate(
    data: str, year: int, method_file: str | None, out: str | None, sheet: str | None, skip_invalid: bool, lang: str
) -> None:
    """Run the annual 亩均效益综合评价 of every enterprise in DATA (XLSX or CSV) for --year.

    Prints the class summary, the county figures against the targets and the
    benchmarks; with --out writes the results. Bad data or a bad method file:
    exit code 2 and every problem listed on stderr.
    """
    from pathlib import Path

    from .services.data.validation import load_enterprise_years
    from .services.evaluation import methods
    from .services.evaluation.evaluate import SUFFIXES, run_evaluation, write_results

    if out is not None and Path(out).suffix.lower() not in SUFFIXES:
        raise click.BadParameter(
            f"输出文件须为 .xlsx、.csv 或 .json：{out} / the output must end in .xlsx, .csv or .json: {out}",
            param_hint="--out",
        )
    try:
        method = methods.from_file(method_file)
        params, title = method.parameters(), method.title
        loaded = load_enterprise_years(data, sheet=sheet, skip_invalid=skip_invalid)
        if not loaded.ok:
            raise InvalidInput(list(loaded.problems))
        _print_skipped(loaded)
        ev = run_evaluation(loaded.frame, year, params, title)
    except PolicyError as exc:  # InvalidInput and ReformError list their problems
        if hasattr(exc, "problems"):
            _print_problems(exc)
        else:
            click.echo(f"错误 / Error: {exc.message_zh} {exc.message_en}", err=True)
        sys.exit(2)
    _print_evaluation(ev, lang)
    if out is not None:
        write_results(ev, out, lang)
        click.echo(f"结果已写入 / results written to: {out}")


@main.command("simulate")
@click.option(
    "--reform",
    "reform_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Reform YAML or JSON: title, description, changes {parameter: value | {date: value}} (the --method format).",
)
@click.option(
    "--data", required=True, type=click.Path(exists=True, dir_okay=False), help="Enterprise-years, XLSX or CSV."
)
@click.option("--year", required=True, type=int, help="Data year compared (earlier consecutive years feed D streaks).")
@click.option(
    "--projects",
    type=click.Path(exists=True, dir_okay=False),
    help="Situation of projects (the `tenglong calculate` JSON; enterprises keyed by credit code).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the comparison: .json or .xlsx.")
@click.option("--sheet", help="Sheet of an XLSX DATA file (default: 企业数据, else the first).")
@click.option(
    "--firm",
    "firm",
    metavar="CREDIT_CODE",
    help="Also say why this firm comes out as it does on each side: its class and each project's amounts, with the "
    "values used.",
)
def simulate_command(
    reform_file: str,
    data: str,
    year: int,
    projects: str | None,
    out: str | None,
    sheet: str | None,
    firm: str | None,
) -> None:
    """Compare a reform with the baseline over one data year: class migrations, support by clause, town and
    industry, the firms that change, the A.2 targets and the differential prices. Without --out, prints a summary;
    with --firm, one firm's explanation on both sides. Bad data, a bad situation, a bad reform or an unknown firm:
    exit code 2 with every problem listed."""
    import json
    from pathlib import Path

    from .services import simulation
    from .services.evaluation import methods
    from .services.simulation.workbook import simulation_xlsx

    suffix = Path(out).suffix.lower() if out else None
    if suffix not in (None, ".json", ".xlsx"):
        raise click.BadParameter(
            f"输出文件须为 .json 或 .xlsx：{out} / the output must end in .json or .xlsx: {out}", param_hint="--out"
        )
    try:
        method = methods.from_file(reform_file)
        simulator = simulation.Simulator.start(simulation.load_snapshot(data, year, projects, sheet=sheet))
        comparison = simulator.compare(method)
        why = simulation.firm_explanation(comparison, method, firm.strip().upper()) if firm else None
    except PolicyError as exc:  # InvalidInput and ReformError list their problems
        if hasattr(exc, "problems"):
            _print_problems(exc)
        else:
            click.echo(f"错误 / Error: {exc.message_zh} {exc.message_en}", err=True)
        sys.exit(2)
    doc = simulation.to_json(comparison, method, simulator.labels)
    if why is not None:
        for line in simulation.firm_lines(why):
            click.echo(line)
    if out is None:
        if why is None:
            for line in simulation.summary(doc, simulation.changes_detail(comparison, method)):
                click.echo(line)
        return
    if suffix == ".json":
        Path(out).write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        Path(out).write_bytes(simulation_xlsx(doc, simulation.changes_detail(comparison, method)))
    click.echo(f"结果已写入 / results written to: {out}")


@main.command("template")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="zh: Chinese headers, money in 万元; en: English headers, money in 元.",
)
def template_command(out: str, lang: str) -> None:
    """Write the import template OUT.xlsx: instructions, the data sheet with drop-downs, town and industry lists."""
    from .adapters.tabular.template import write_template

    path = write_template(out, lang)
    click.echo(f"模板已写入 / template written to: {path}")


def _parse_years(value: str) -> list[int]:
    """'2021-2023' → [2021, 2022, 2023]; '2021,2023' → [2021, 2023]."""
    try:
        if "-" in value:
            first, last = (int(v) for v in value.split("-", 1))
            return list(range(first, last + 1))
        return [int(v) for v in value.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"年度应写作 2021-2023 或 2021,2023，而不是 {value!r} / "
            f"write years as 2021-2023 or 2021,2023, not {value!r}",
            param_hint="--years",
        ) from None


@main.command("demo-data")
@click.option(
    "--seed", type=int, default=2023, show_default=True, help="Generator seed; the same seed gives the same file."
)
@click.option(
    "--years", default="2021-2023", show_default=True, help="Years, e.g. 2021-2023 or 2021,2023 (within 2015–2040)."
)
@click.option(
    "--with-defects",
    is_flag=True,
    help="Plant the generator's documented data defects (two of each) for import-check to find.",
)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.xlsx or FILE.csv (UTF-8 with BOM).")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="zh: Chinese headers, money in 万元; en: English headers, money in 元.",
)
def demo_data(seed: int, years: str, with_defects: bool, out: str, lang: str) -> None:
    """Write the synthetic demo county in the import format."""
    from .adapters.tabular.writer import write_enterprise_years
    from .demo.county import generate_county, generate_county_with_defects

    chosen = _parse_years(years)
    try:
        if with_defects:
            frame, defects = generate_county_with_defects(seed, chosen)
        else:
            frame, defects = generate_county(seed, chosen), []
        path = write_enterprise_years(frame, out, lang=lang)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    click.echo(
        f"{frame.height:,} 行已写入 / rows written to {path}"
        + (f"（含 {len(defects)} 处预置错误 / with {len(defects)} planted defects）" if defects else "")
    )


@main.command("import-check")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", help="Sheet to read (default: 企业数据 / 企业 / 数据 / data, else the first).")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Accept the valid rows and list the skipped ones (exit 0 unless the file or its headers are unusable).",
)
@click.option("--report", type=click.Path(dir_okay=False), help="Also write every error to this .xlsx report.")
def import_check(file: str, sheet: str | None, skip_invalid: bool, report: str | None) -> None:
    """Validate an enterprise-year FILE (XLSX or CSV): summary, then the first 50 errors. Exit 2 on errors."""
    from .adapters.tabular.writer import write_error_report
    from .services.data.validation import load_enterprise_years

    result = load_enterprise_years(file, sheet=sheet, skip_invalid=skip_invalid)
    src = result.source
    click.echo(
        f"文件 / file: {src.path}  工作表 / sheet: {src.sheet}  表头 / headers: {src.language}  "
        f"编码 / encoding: {src.encoding or '-'}"
    )
    if src.units:
        click.echo("单位 / units: " + ", ".join(f"{k}={u}" for k, u in src.units.items()))
    click.echo(
        f"读取 / rows read: {result.rows_read:,}  有效 / valid: {result.rows_valid:,}  "
        f"跳过 / skipped: {len(result.skipped):,}  错误 / errors: {len(result.problems):,}"
    )
    for code, count in result.errors_by_code().items():
        click.echo(f"  {code}: {count:,}")
    for w in result.warnings:
        click.echo(f"提示 / warning: {w.message_zh} / {w.message_en}")
    for k, p in enumerate(result.problems[:50], 1):
        click.echo(f"{k}. [{p.code}] {p.message_zh}\n   {p.message_en}")
    if len(result.problems) > 50:
        click.echo(
            f"… 另有 {len(result.problems) - 50:,} 处错误 / {len(result.problems) - 50:,} more errors"
            + ("" if report else "（用 --report 导出全部 / use --report for all）")
        )
    if report:
        click.echo(f"错误报告 / error report: {write_error_report(result, report)}")
    sys.exit(0 if result.ok else 2)


@bench.command("import")
@click.option("--n", "n", type=int, default=100_000, show_default=True, help="Rows in the generated XLSX.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Header language (zh: money in 万元).",
)
def bench_import(n: int, seed: int, lang: str) -> None:
    """Time the import (read + validate + normalise) of an N-row XLSX written from the demo county."""
    from .bench.imports import import_benchmark

    for line in import_benchmark(n, seed, lang):
        click.echo(line)


@bench.command("attacks")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True, help="Times each attack is sent.")
@click.option("--out", default=None, help="Write the Markdown table here (e.g. docs/reliability.md); else print it.")
@click.option("--only", default=None, help="Only the attacks whose number starts with this (e.g. 2 or 8a).")
def bench_attacks(runs: int, out: str | None, only: str | None) -> None:
    """Send every attack of the hostile-input review to a real server (tenglong serve on a fresh demo county)
    RUNS times; measure the answers, the server's peak memory and whether it stays up; print or write the table."""
    from .bench.attacks import attacks_benchmark

    for line in attacks_benchmark(runs, out, only):
        click.echo(line)


@main.command()
@click.option("--host", default=None, help="Address to bind (default TENGLONG_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default TENGLONG_PORT, 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the platform: migrate the database, create the demo county when it is empty, serve the web app and API."""
    import uvicorn

    from .services.bootstrap import DEMO_PASSWORD, ensure_database
    from .services.kernel.platform import Platform
    from .settings import get_settings
    from .web.app import create_app

    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        click.echo(f"错误 / Error: 配置无效 / invalid settings:\n{exc}", err=True)
        sys.exit(2)
    platform = Platform.from_settings(settings)
    accounts = ensure_database(platform, say=lambda m: click.echo(m))
    host, port = host or settings.host, port or settings.port
    click.echo(f"腾笼 tenglong 已启动 / running on http://{host}:{port}  (database: {settings.database_url})")
    if accounts:
        click.echo(f"演示账号 / demo accounts (password for all: {DEMO_PASSWORD}):")
        for a in accounts:
            click.echo(f"  {a.username:<11} {a.description_zh} / {a.description_en}")
    elif settings.demo:
        click.echo(
            "演示账号 / demo accounts: admin, department, town, enterprise, auditor "
            f"(password {DEMO_PASSWORD}, unless changed)"
        )
    # X-Forwarded-For is believed only from TENGLONG_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1 by default,
    # letting any local caller pick its address for the login throttle and the audit log).
    proxies = settings.trusted_proxies
    uvicorn.run(
        create_app(platform),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or "",
    )


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@click.option("--database-url", default=None, help="Verify this database (default TENGLONG_DATABASE_URL).")
def audit_verify(database_url: str | None) -> None:
    """Walk the audit log's hash chain in id order; print the rows verified and the head hash (exit 0).

    At the first broken row (content edited, a row missing or out of order, a row
    written around the audit writer) print its id, time, action and what is
    wrong, and exit 1. Exit 2 when the database cannot be read. Changes nothing.
    """
    from .services.audit.chain import report, verify_chain
    from .services.kernel.platform import Platform
    from .settings import get_settings

    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        click.echo(f"错误 / Error: 配置无效 / invalid settings:\n{exc}", err=True)
        sys.exit(2)
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    platform = Platform.from_settings(settings)
    try:
        verdict = verify_chain(platform)
    except PolicyError as exc:
        click.echo(f"错误 / Error: {exc.message_zh}\n{exc.message_en}", err=True)
        sys.exit(2)
    finally:
        platform.engine.dispose()
    for line in report(verdict):
        click.echo(line)
    sys.exit(0 if verdict.ok else 1)


@main.group()
def registers() -> None:
    """The campaign registers (清单) of A.3."""


@registers.command("export")
@click.option("--kind", default=None, help="One register (its key or Chinese name); default: every register.")
@click.option("--town", default=None, help="One town, by name (杜桥镇) or code; default: every town.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.json or FILE.xlsx.")
@click.option("--database-url", default=None, help="Export from this database (default TENGLONG_DATABASE_URL).")
def registers_export(kind: str | None, town: str | None, out: str, database_url: str | None) -> None:
    """Write the registers, one per kind, as JSON or XLSX (the suffix of --out decides); the export is audited."""
    from .services.campaign.export import export
    from .services.kernel.platform import Platform
    from .settings import get_settings

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    platform = Platform.from_settings(settings)
    try:
        counts = export(platform.uow, out, kind=kind, town=town)
    except InvalidInput as exc:
        _print_problems(exc)
        sys.exit(1)
    except PolicyError as exc:
        raise click.ClickException(f"{exc.message_zh} / {exc.message_en}") from None
    finally:
        platform.engine.dispose()
    click.echo(
        f"已导出 {counts['kinds']} 个清单、{counts['entries']} 条 / exported {counts['kinds']} registers, "
        f"{counts['entries']} entries → {out}"
    )


@registers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", required=True, help="The register (its key or Chinese name).")
@click.option("--user", "username", required=True, help="Import as this account (its role and scope apply).")
@click.option("--database-url", default=None, help="Import into this database (default TENGLONG_DATABASE_URL).")
def registers_import(file: str, kind: str, username: str, database_url: str | None) -> None:
    """Import a register kept in Excel (the columns of its template): every row is checked first; on any problem
    each is printed (row, column, value, expected, example) and nothing is imported (exit 1)."""
    from pathlib import Path

    from .services.campaign import imports
    from .services.kernel.platform import Platform
    from .settings import get_settings

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    platform = Platform.from_settings(settings)
    try:
        actor = imports.account(platform.uow, username)
        data = Path(file).read_bytes()
        result = imports.import_register(
            platform.uow, actor, kind, data, Path(file).name, max_mb=settings.max_upload_mb
        )
    except InvalidInput as exc:
        _print_problems(exc)
        sys.exit(1)
    except PolicyError as exc:
        raise click.ClickException(f"{exc.message_zh} / {exc.message_en}") from None
    finally:
        platform.engine.dispose()
    ignored = "、".join(result["ignored_columns"])
    click.echo(
        f"已导入 {result['created']} 条 / imported {result['created']} entries"
        + (f"（未导入的列 / columns ignored: {ignored}）" if ignored else "")
    )


@main.group()
def report() -> None:
    """The campaign's reports (A.4.2 月通报、季擂台、年评优) as PDF or XLSX."""


@report.command("monthly")
@click.option("--month", required=True, help="The month, YYYY-MM (e.g. 2023-05).")
@click.option("--town", default=None, help="One town's bulletin, by name (杜桥镇) or code; default: the county's.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.pdf or FILE.xlsx.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="The language.")
@click.option("--database-url", default=None, help="Report from this database (default TENGLONG_DATABASE_URL).")
def report_monthly(month: str, town: str | None, out: str, lang: str, database_url: str | None) -> None:
    """Write the monthly bulletin (月通报) of the county or one town; the suffix of --out decides the format."""
    from .services.reports.documents import monthly_file

    _write_report(out, database_url, lambda uow, fmt: monthly_file(uow, None, month, town, fmt, lang))


def _write_report(out: str, database_url: str | None, make: Any) -> None:
    """Write the document ``make(uow, format)`` gives to ``out`` (its suffix is the format); a bad month, quarter,
    year or town: every problem and exit code 1."""
    import time
    from pathlib import Path

    from .services.kernel.platform import Platform
    from .settings import get_settings

    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    platform = Platform.from_settings(settings)
    started = time.perf_counter()
    try:
        doc = make(platform.uow, Path(out).suffix.lstrip(".").lower())
    except InvalidInput as exc:
        _print_problems(exc)
        sys.exit(1)
    except PolicyError as exc:
        raise click.ClickException(f"{exc.message_zh} / {exc.message_en}") from None
    finally:
        platform.engine.dispose()
    Path(out).write_bytes(doc.content)
    click.echo(f"已生成 / written {out} ({len(doc.content):,} B, {time.perf_counter() - started:.2f} s)")


def _write_contest(period: str, annual: bool, out: str, lang: str, database_url: str | None) -> None:
    """Write the 季擂台 of a quarter or the 年评优 of a year to ``out``."""
    from .services.reports.documents import contest_file

    _write_report(out, database_url, lambda uow, fmt: contest_file(uow, None, period, annual, fmt, lang))


@report.command("quarterly")
@click.option("--quarter", required=True, help="The quarter, YYYYQn (e.g. 2023Q2).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.pdf or FILE.xlsx.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="The language.")
@click.option("--database-url", default=None, help="Report from this database (default TENGLONG_DATABASE_URL).")
def report_quarterly(quarter: str, out: str, lang: str, database_url: str | None) -> None:
    """Write the quarterly contest (季擂台): the towns and zones ranked, with the method; the suffix of --out decides
    the format."""
    _write_contest(quarter, False, out, lang, database_url)


@report.command("annual")
@click.option("--year", required=True, help="The year, YYYY (e.g. 2023).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.pdf or FILE.xlsx.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="The language.")
@click.option("--database-url", default=None, help="Report from this database (default TENGLONG_DATABASE_URL).")
def report_annual(year: str, out: str, lang: str, database_url: str | None) -> None:
    """Write the annual awards (年评优): the year's ranking and its candidate examples; the suffix of --out decides
    the format."""
    _write_contest(year, True, out, lang, database_url)


if __name__ == "__main__":
    main()
