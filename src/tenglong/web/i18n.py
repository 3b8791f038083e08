"""The message catalogue (zh-Hans first, English) of the web app: ``tenglong.locale``'s, re-exported."""

from __future__ import annotations

from ..locale import LANGS, catalogue, t

__all__ = ["LANGS", "catalogue", "t"]
