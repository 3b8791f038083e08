"""Server-rendered page routers."""
