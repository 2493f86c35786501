"""The REST API (FastAPI): thin routers over the services; OpenAPI at /api/v1/openapi.json."""
