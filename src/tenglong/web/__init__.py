"""The web adapter: REST API under /api/v1 and server-rendered pages, on the same services."""
