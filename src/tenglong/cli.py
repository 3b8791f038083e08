"""The ``tenglong`` command line. Each command parses, calls one service, renders."""

from __future__ import annotations

import sys

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
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of the explanation lines.")
@click.option("--compact", is_flag=True, help="One-line JSON.")
def calculate(file, no_explain: bool, lang: str, compact: bool) -> None:
    """Answer a calculation request (JSON FILE, or - for stdin) on stdout.

    A variable set to null is requested; every requested value is filled in,
    with its clause-cited explanation unless --no-explain. On bad input the
    exit code is 2, stdout stays empty and stderr lists every problem.
    """
    from .services.calculate import calculate as run, dumps, parse_json

    try:
        result = run(parse_json(file.read()), explain=not no_explain, lang=lang)
    except InvalidInput as exc:
        _print_problems(exc)
        sys.exit(2)
    except PolicyError as exc:
        click.echo(f"错误 / Error: {exc.message_zh} {exc.message_en}", err=True)
        sys.exit(2)
    click.echo(dumps(result, indent=None if compact else 2))


@main.command()
@click.option("--entity", type=click.Choice(["enterprises", "projects", "land_transfers", "mergers", "land_sales", "county_years"]), help="Only this entity kind.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def variables(entity: str | None, as_json: bool) -> None:
    """List the variables of the contract: entity, name, role, unit, clause, zh/en labels."""
    from .services.catalogue import variable_rows

    rows = variable_rows(entity)
    if as_json:
        import json

        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("entity", "variable", "role", "type", "unit", "default", "clause", "中文", "English", show_lines=False)
    for r in rows:
        table.add_row(r["entity"], r["name"], r["role"], r["type"], r["unit"], r["default"], r["clause"] or "", r["zh"], r["en"])
    Console(width=220).print(table)


@main.group()
def bench() -> None:
    """Benchmarks (measure and print; never part of the test suite)."""


@bench.command("engine")
@click.option("--n", "n", type=int, default=1_000_000, show_default=True, help="Number of projects.")
@click.option("--reference-n", type=int, default=None, help="Rows for the per-row Decimal reference (default min(n, 100000)); rows/s is extrapolated.")
@click.option("--seed", type=int, default=1, show_default=True)
def bench_engine(n: int, reference_n: int | None, seed: int) -> None:
    """Time every project rule over N generated projects, against the Decimal reference."""
    from .services.bench import engine_benchmark

    for line in engine_benchmark(n, reference_n, seed):
        click.echo(line)


@bench.command("calculate")
@click.option("--n", "n", type=int, default=100_000, show_default=True, help="Number of projects in the request file.")
@click.option("--explain/--no-explain", default=False, show_default=True)
def bench_calculate(n: int, explain: bool) -> None:
    """Time `tenglong calculate` end to end (JSON text in, JSON text out) for N projects."""
    from .services.bench import calculate_benchmark

    for line in calculate_benchmark(n, explain):
        click.echo(line)


@main.command()
@click.option("--clause", help="Only the cases of this clause.")
@click.option("-v", "--verbose", is_flag=True)
def cases(clause: str | None, verbose: bool) -> None:
    """Run the policy cases (policy/cases/*.yaml) and report each."""
    from .services.cases import run_cases

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


if __name__ == "__main__":
    main()
