"""待办: what waits on the caller — each kind of task with its count and the list to open (the dashboard's panel)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...services import todo as service
from ..notices import both, todo_text
from ..security import ActorDep, PlatformDep
from .notifications import TextPublic

router = APIRouter(prefix="/api/v1", tags=["notifications"])  # error answers: app.document_errors


class TodoItemPublic(BaseModel):
    """One kind of task: how many records wait on the caller, and where they are listed."""

    key: str = Field(description="Stable: the record kind and state, e.g. subsidy_application.submitted")
    count: int = Field(description="How many records wait (never 0: kinds without any are left out)")
    link: str = Field(description="The page listing them, filtered")
    message: TextPublic


class TodoPublic(BaseModel):
    """Everything that waits on the caller."""

    items: list[TodoItemPublic]
    total: int = Field(description="The sum of the counts")


@router.get("/todo", response_model=TodoPublic)
def todo(p: PlatformDep, actor: ActorDep) -> TodoPublic:
    """What waits on the caller: applications to review, approve or pay, returned ones to revise, drafts, imports
    to commit, runs to publish — within the caller's scope (a town: its firms; an enterprise: itself).
    """
    found = service.items(p.uow, actor)
    return TodoPublic(
        items=[
            TodoItemPublic(key=i.key, count=i.count, link=i.link, message=TextPublic(**both(todo_text, i)))
            for i in found
        ],
        total=sum(i.count for i in found),
    )
