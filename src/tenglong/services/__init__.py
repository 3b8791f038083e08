"""Use cases: orchestrate the core for the adapters (CLI, web, Excel)."""
