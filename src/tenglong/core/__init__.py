"""Pure engine: stdlib and numpy only, no I/O."""
