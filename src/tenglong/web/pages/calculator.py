"""政策计算器: the form (htmx posts it and swaps the results), the batch upload and its Excel download."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from ...registers.roles import Actor
from ...services.calculation import batch as calculator_batch
from ...services.calculation import calculator
from ..app import render
from ..security import FormDep, PlatformDep, language, require

router = APIRouter(include_in_schema=False)
CALC = require("calculate")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH_SHOWN = 500


def _context(
    request: Request,
    kind: calculator.Kind,
    ent: dict | None,
    form: dict,
    result: dict | None = None,
    batch=None,
    matches: list | None = None,
    typed: str = "",
) -> dict:
    titles = calculator.clause_titles(kind, language(request))
    return {
        "kinds": list(calculator.KINDS),
        "kind": kind.key,
        "ent": ent,
        "form": form,
        "sections": calculator.sections(kind),
        "titles": titles,
        "result": result,
        "problems": (result or {}).get("problems", {}),
        "general_problems": (result or {}).get("general_problems", []),
        "batch": batch,
        "shown": BATCH_SHOWN,
        "options": [],
        "matches": matches,
        "typed": typed,
        "notice": calculator.validity_notice(form.get("application_date") or None),
        "window": calculator.policy_window(),
        "printed_at": calculator.now().strftime("%Y-%m-%d %H:%M"),
    }


def _enterprise(p, actor, code: str | None) -> tuple[dict | None, list | None]:
    """The enterprise typed or chosen (a credit code, or a name in the actor's scope), and the candidates when a
    name matched none or several.
    """
    if not code and actor.role == "enterprise":
        code = actor.credit_code
    if not code or not code.strip():
        return None, None
    ent, matches = calculator.find_enterprise(p.uow, actor, code)
    return ent, (None if ent else matches)


@router.get("/calculator")
def calculator_page(
    request: Request, p: PlatformDep, actor=CALC, case: str = "project", enterprise: str | None = None
) -> Response:
    """The calculator form, prefilled from the chosen enterprise's latest published evaluation."""
    k = calculator.KINDS.get(case, calculator.KINDS["project"])
    ent, matches = _enterprise(p, actor, enterprise)
    ctx = _context(request, k, ent, calculator.prefill_form(k, ent), matches=matches, typed=(enterprise or "").strip())
    return render(request, "calculator/index.html", **ctx)


@router.post("/calculator")
def calculator_submit(request: Request, p: PlatformDep, actor: Annotated[Actor, CALC], posted: FormDep) -> Response:
    """Compute the form; an htmx request gets the form and results panel.

    A plain post gets the whole page (422 with problems).
    """
    form = {k: str(v) for k, v in posted.items() if k not in ("csrf_token", "case")}
    k = calculator.KINDS.get(str(posted.get("case", "")), calculator.KINDS["project"])
    ent, _ = _enterprise(p, actor, form.get("enterprise"))
    result = calculator.run_form(k.key, form, language(request))
    ctx = _context(request, k, ent, form, result)
    if request.headers.get("hx-request"):
        return render(request, "calculator/_main.html", **ctx)
    return render(
        request,
        "calculator/index.html",
        status_code=422 if result["problems"] or result["general_problems"] else 200,
        **ctx,
    )


@router.get("/calculator/enterprises")
def enterprise_options(
    request: Request, p: PlatformDep, actor=CALC, enterprise: str = "", q: str = "", credit_code: str = ""
) -> Response:
    """Options of the enterprise pickers (type-ahead by name or credit code): enterprises in the actor's scope
    matching the text typed (``enterprise`` on the calculator, ``credit_code`` on the new-application form).
    """
    return render(
        request,
        "calculator/_enterprise_options.html",
        options=calculator.enterprise_options(p.uow, actor, q or enterprise or credit_code),
    )


@router.post("/calculator/batch")
def batch(request: Request, file: UploadFile, p: PlatformDep, actor=CALC) -> Response:
    """Upload a JSON request file or an XLSX of projects; the results table (or every problem) comes back."""
    data = file.file.read()  # a plain def (in the threadpool): the spooled upload is read synchronously
    lang = language(request)
    suffix = Path(file.filename or "").suffix.lower()
    result = (
        calculator_batch.from_json(data, lang)
        if suffix == ".json" or data[:1] in (b"{", b"[")
        else calculator_batch.from_xlsx(data, suffix, lang)
    )
    status = 422 if result.problems else 200
    if request.headers.get("hx-request"):
        return render(request, "calculator/_batch.html", batch=result, shown=BATCH_SHOWN)
    k = calculator.KINDS["project"]
    return render(
        request,
        "calculator/index.html",
        status_code=status,
        **_context(request, k, None, calculator.prefill_form(k, None), batch=result),
    )


@router.post("/calculator/batch.xlsx")
def batch_xlsx(request: Request, p: PlatformDep, actor: Annotated[Actor, CALC], posted: FormDep) -> Response:
    """The results of a batch as an Excel workbook (Chinese headers, frozen header row)."""
    body = posted.get("request") or "{}"
    return Response(
        calculator_batch.export_xlsx(str(body)),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="calculation-results.xlsx"'},
    )


@router.get("/calculator/template.xlsx")
def batch_template(actor=CALC) -> Response:
    """The batch template: one row per project, Chinese headers for the 2.10/2.11 inputs."""
    return Response(
        calculator_batch.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="calculator-projects-template.xlsx"'},
    )
