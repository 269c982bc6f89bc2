"""Schemathesis over the API's OpenAPI schema: generated requests to every route (with an admin
token, real model, real SQLite file) never get a 5xx, and every response matches the schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from campus_fer.settings import AppSettings
from db.engine import make_engine
from db.tokens import create_token
from fer_core.recognizer import Recognizer
from tests.actors import ADMIN

#: Examples per operation: enough to reach every status code, small enough for a 2-core machine.
EXAMPLES_PER_OPERATION = 30

_engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp(prefix='campus_fer_schema_')) / 'api.sqlite3'}")
_, _token = create_token(_engine, "schemathesis", "admin", actor=ADMIN)
_app = create_app(AppSettings(max_upload_mb=1.0, max_files_per_upload=5), _engine, Recognizer())
schema = schemathesis.openapi.from_asgi("/openapi.json", _app)
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {_token}"}, checks=CHECKS)
