"""One APIRouter per resource, included by api.app.create_app in this order (the OpenAPI order)."""
