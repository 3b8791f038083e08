"""POST /api/v1/calculate — exactly the `tenglong calculate` contract, through the same service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from ...registers.roles import Actor
from ...services.calculation.contract import calculate, dumps
from ..limits import read_json
from ..security import BodyDep, PlatformDep, require

router = APIRouter(prefix="/api/v1", tags=["calculate"])


@router.post(
    "/calculate",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "example": {
                            "as_of": "2023-03-01",
                            "period": "2023",
                            "enterprises": {"E1": {"mujun_class": "A", "is_2513_enterprise": False}},
                            "projects": {
                                "P1": {
                                    "enterprise": "E1",
                                    "application_date": "2023-03-01",
                                    "total_investment": 15000000,
                                    "equipment_investment": 8000000,
                                    "tech_renovation_tier": None,
                                    "tech_renovation_subsidy": None,
                                }
                            },
                        },
                    }
                }
            }
        }
    },
)
def calculate_endpoint(
    actor: Annotated[Actor, require("calculate")],
    p: PlatformDep,
    body: BodyDep,
    explain: bool = True,
    lang: str = "zh",
) -> Response:
    """Answer a calculation request: every variable set to null is filled in, with clause-cited explanations.

    Numbers are read as exact decimals; money comes back with at most two
    decimals. A body that is not JSON: 400; bad input: 422 with the problems
    in the error envelope (the first 1,000, then how many more); more than
    ``TENGLONG_MAX_CALCULATE_ENTITIES`` entities: 422; a body over
    ``TENGLONG_MAX_CALCULATE_MB``: 413.
    """
    # A plain def: FastAPI runs it in its threadpool, so a 60,000-project request leaves the event loop free.
    doc = read_json(body)
    max_entities = p.settings.max_calculate_entities
    result = calculate(doc, explain=explain, lang="en" if lang == "en" else "zh", max_entities=max_entities)
    return Response(dumps(result, indent=None), media_type="application/json")
