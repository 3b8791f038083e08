"""亩均效益综合评价: the annual per-mu evaluation of a whole county (pure, vectorised)."""
