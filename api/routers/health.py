"""GET /healthz: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from api import schemas
from api.deps import DbEngine, Settings, error_responses
from db.engine import current_revision

router = APIRouter()


@router.get("/healthz", response_model=schemas.Health, responses=error_responses(503), tags=["service"])
def healthz(engine: DbEngine, settings: Settings) -> schemas.Health:
    """Liveness and readiness: the database answers and the model is loaded."""
    current_revision(engine)
    return schemas.Health(status="ok", database="ok", model=settings.model)
