"""The campaign's targets and reports (A.2, A.3, A.4.2, A.4.3): progress against its targets (``progress.py``), the
figures people enter and the towns' shares (``figures.py``), how a figure reads (``shown.py``), the progress workbook
(``export.py``), the monthly bulletin's figures (``bulletin.py``), the 季擂台 and 年评优 (``contest.py``), the year's
candidate examples (``awards.py``), and the reports' PDF and workbooks (``documents.py``)."""

from __future__ import annotations

from ...core.errors import Forbidden
from ...registers.roles import Actor
from ..kernel.scope import require

__all__ = ["officials_only"]


def officials_only(actor: Actor) -> None:
    """The reports (月通报、季擂台、年评优) are for the officials: anyone who reads, but not an enterprise — they name
    other enterprises and the towns' standing.

    Raises:
        Forbidden: without ``read``, or an enterprise.
    """
    require(actor, "read")
    if actor.role == "enterprise":
        raise Forbidden("read", "报表供工作专班和各镇（街道）使用。", "The reports are for the officials.")
