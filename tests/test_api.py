"""The REST API in-process (TestClient) with real photos, the real model and a real SQLite file:
every route, tokens and scopes, and every bad-input class with the database checked after each."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from campus_fer.settings import AppSettings
from campus_fer.trends import export_table, load_trends
from db import queries, tokens
from db.engine import make_engine
from db.models import observations_table
from fer_core.labels import EMOTIONS
from fer_core.recognizer import Recognizer
from tests.actors import ADMIN
from tests.bad_files import BAD_FILES
from tests.photos import encode, group_photo

SETTINGS = AppSettings(max_upload_mb=1.0, max_files_per_upload=5, min_faces_per_bucket=5)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def client(engine: Engine, recognizer: Recognizer) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, engine, recognizer)) as client:
        yield client


def bearer(engine: Engine, scope: str) -> dict[str, str]:
    _, secret = tokens.create_token(engine, f"{scope} test", scope, actor=ADMIN)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def admin(engine: Engine) -> dict[str, str]:
    return bearer(engine, "admin")


def jpeg(n_faces: int, seed: int) -> bytes:
    return encode(group_photo(n_faces, seed=seed)[0], "JPEG")


def table_counts(engine: Engine) -> tuple[int, int]:
    """(photos, observations) in the whole database."""
    with engine.connect() as connection:
        photos = connection.execute(sa.text("SELECT COUNT(*) FROM photos")).scalar_one()
        faces = connection.execute(sa.select(sa.func.count()).select_from(observations_table)).scalar_one()
    return photos, faces


def test_healthz_needs_no_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "model": SETTINGS.model}


def test_analyze_multipart_and_raw_body_store_nothing(client, engine, admin):
    data = jpeg(3, seed=1)
    multipart = client.post("/v1/analyze", files={"file": ("group.jpg", data, "image/jpeg")}, headers=admin)
    raw = client.post(
        "/v1/analyze?filename=group.jpg", content=data, headers={**admin, "Content-Type": "image/jpeg"}
    )
    assert multipart.status_code == raw.status_code == 200, multipart.text
    body = multipart.json()
    assert body == raw.json()
    assert (body["filename"], body["width"], body["height"], body["n_faces"]) == ("group.jpg", 1280, 720, 3)
    face = body["faces"][0]
    assert set(face) >= {"box", "label", "confidence", "detection_score", "probabilities"}
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert face["label"] == max(face["probabilities"], key=face["probabilities"].get)
    assert abs(sum(face["probabilities"].values()) - 1) < 1e-3
    assert table_counts(engine) == (0, 0)


def test_tokens_scopes_and_revocation(client, engine):
    assert client.get("/v1/sessions").status_code == 401
    assert client.get("/v1/sessions").headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/sessions", headers={"Authorization": "Bearer cfer_made_up"}).status_code == 401
    read, write, admin = (bearer(engine, scope) for scope in ("read", "write", "admin"))
    assert client.get("/v1/sessions", headers=read).status_code == 200
    refused = client.post("/v1/sessions", json={"name": "Lecture"}, headers=read)
    assert refused.status_code == 403 and "needs 'write'" in refused.json()["detail"]
    created = client.post("/v1/sessions", json={"name": "Lecture"}, headers=write)
    assert created.status_code == 201
    session_id = created.json()["id"]
    another_write = bearer(engine, "write")  # a write token deletes only the sessions it created
    not_owner = client.delete(f"/v1/sessions/{session_id}", headers=another_write)
    assert not_owner.status_code == 403
    assert "may not delete session 'Lecture':" in not_owner.json()["detail"]  # "session" said once
    kiosk = client.post("/v1/analyze", content=jpeg(1, 2), headers={**read, "Content-Type": "image/jpeg"})
    assert kiosk.status_code == 200
    [info] = [t for t in tokens.list_tokens(engine) if t.scope == "admin"]
    assert tokens.revoke_token(engine, info.id, actor=ADMIN)
    assert client.delete(f"/v1/sessions/{session_id}", headers=admin).status_code == 401
    assert queries.get_event_session(engine, session_id) is not None


def test_tokens_table_holds_no_clear_token(engine):
    secrets = [tokens.create_token(engine, f"kiosk {i}", "write", actor=ADMIN)[1] for i in range(3)]
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM api_tokens")).mappings().all()
    assert len(rows) == 3
    stored_text = " ".join(str(value) for row in rows for value in row.values())
    for secret in secrets:
        assert secret not in stored_text
        assert secret[len(tokens.TOKEN_PREFIX) + 6 :] not in stored_text  # not even the secret part
        assert hashlib.sha256(secret.encode()).hexdigest() in {row["token_hash"] for row in rows}
    assert {row["prefix"] for row in rows} == {secret[: tokens.SHOWN_CHARACTERS] for secret in secrets}


def test_sessions_list_comes_in_pages_with_the_total(client, admin):
    ids = [
        client.post("/v1/sessions", json={"name": f"Lecture {i}"}, headers=admin).json()["id"]
        for i in range(5)
    ]
    everything = client.get("/v1/sessions", headers=admin)
    assert [s["id"] for s in everything.json()] == ids[::-1] and everything.headers["x-total-count"] == "5"
    pages = [client.get("/v1/sessions", params={"limit": 2, "offset": o}, headers=admin) for o in (0, 2, 4)]
    assert [s["id"] for page in pages for s in page.json()] == ids[::-1]
    assert {page.headers["x-total-count"] for page in pages} == {"5"}
    assert client.get("/v1/sessions", params={"limit": 0}, headers=admin).status_code == 422


def test_session_lifecycle_with_photos_and_trends(client, engine, admin):
    created = client.post(
        "/v1/sessions",
        json={"name": "Open day", "event_date": "2026-05-02", "tags": ["hall A"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    session_id = created.json()["id"]
    assert client.post("/v1/sessions", json={"name": "Open day"}, headers=admin).status_code == 409
    photos = [jpeg(3, seed=10 + i) for i in range(3)]
    files = [("files", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    first = client.post(f"/v1/sessions/{session_id}/photos", files=files, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"saved": 3} and first.json()["faces_saved"] == 9
    assert [f["n_faces"] for f in first.json()["files"]] == [3, 3, 3]
    assert table_counts(engine) == (3, 9)
    again = client.post(f"/v1/sessions/{session_id}/photos", files=files, headers=admin)  # idempotent
    assert again.status_code == 200 and again.json()["counts"] == {"duplicate": 3}
    assert table_counts(engine) == (3, 9)

    detail = client.get(f"/v1/sessions/{session_id}", headers=admin).json()
    assert (detail["n_photos"], detail["n_faces"], detail["tags"]) == (3, 9, ["hall A"])
    assert [row["expression"] for row in detail["expression_mix"]] == list(EMOTIONS)
    assert sum(row["faces"] for row in detail["expression_mix"]) == 9
    assert [s["id"] for s in client.get("/v1/sessions", headers=admin).json()] == [session_id]

    expected = export_table(load_trends(engine, "day", None, None, None, SETTINGS.min_faces_per_bucket))
    as_json = client.get("/v1/trends", params={"bucket": "day"}, headers=admin)
    assert as_json.status_code == 200
    rows = as_json.json()["rows"]
    assert [(r["expression"], r["faces"], r["bucket_faces"]) for r in rows] == list(
        zip(expected["expression"], expected["faces"], expected["bucket_faces"])
    )
    as_csv = client.get("/v1/trends", params={"bucket": "day", "format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == expected.to_csv(index=False)
    hidden = client.get(
        "/v1/trends", params={"bucket": "hour", "session_id": [session_id, 999]}, headers=admin
    ).json()
    assert hidden["min_faces"] == 5 and len(hidden["rows"]) == 7  # one hour bucket of 9 faces
    assert (
        client.get(
            "/v1/trends", params={"start": "2026-02-02", "end": "2026-02-01"}, headers=admin
        ).status_code
        == 400
    )

    assert client.delete(f"/v1/sessions/{session_id}", headers=admin).status_code == 204
    assert client.get(f"/v1/sessions/{session_id}", headers=admin).status_code == 404
    assert client.delete(f"/v1/sessions/{session_id}", headers=admin).status_code == 404
    assert table_counts(engine) == (0, 0)


@pytest.fixture
def session_id(engine: Engine) -> int:
    return queries.create_event_session(engine, "Bad input day", actor=ADMIN)


@pytest.mark.parametrize(("case", "name", "data", "words", "kind"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_files_through_both_doors(client, engine, admin, session_id, case, name, data, words, kind):
    expected_status = 413 if kind == "too_many_pixels" else 400
    analyzed = client.post("/v1/analyze", files={"file": (name, data, "image/jpeg")}, headers=admin)
    assert analyzed.status_code == expected_status, analyzed.text
    assert words in analyzed.json()["detail"]
    assert table_counts(engine) == (0, 0)
    uploaded = client.post(
        f"/v1/sessions/{session_id}/photos", files=[("files", (name, data, "image/jpeg"))], headers=admin
    )
    assert uploaded.status_code == expected_status, uploaded.text
    [verdict] = uploaded.json()["files"]
    assert (verdict["status"], verdict["refused_kind"]) == ("refused", kind)
    assert words in verdict["message"]
    assert table_counts(engine) == (0, 0)


def test_oversized_files_and_bodies(client, engine, admin, session_id):
    limit = int(SETTINGS.max_upload_mb * 1024 * 1024)
    big = encode(np.random.default_rng(5).integers(0, 256, (800, 800, 3), dtype=np.uint8), "PNG")
    assert len(big) > limit
    just_over = jpeg(2, seed=4) + b"\0" * limit  # a JPEG with trailing bytes: a file over the limit
    just_over = just_over[: limit + 10_000]
    analyzed = client.post("/v1/analyze", files={"file": ("big.jpg", just_over, "image/jpeg")}, headers=admin)
    assert analyzed.status_code == 413 and "above the 1 MB limit" in analyzed.json()["detail"]
    whole_body = client.post("/v1/analyze", files={"file": ("big.png", big, "image/png")}, headers=admin)
    assert whole_body.status_code == 413 and "request body is above" in whole_body.json()["detail"]
    too_long = client.post(
        "/v1/analyze", content=b"\xff" * (limit + 100_000), headers={**admin, "Content-Type": "image/jpeg"}
    )
    assert too_long.status_code == 413 and "request body" in too_long.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b"\x00" * 65_536

    streamed = client.post("/v1/analyze", content=chunks(), headers={**admin, "Content-Type": "image/jpeg"})
    assert streamed.status_code == 413 and "limit" in streamed.json()["detail"]
    mixed = client.post(
        f"/v1/sessions/{session_id}/photos",
        files=[
            ("files", ("big.png", big, "image/png")),
            ("files", ("ok.jpg", jpeg(2, seed=6), "image/jpeg")),
        ],
        headers=admin,
    )
    assert mixed.status_code == 200
    assert [f["status"] for f in mixed.json()["files"]] == ["refused", "saved"]
    assert table_counts(engine) == (1, 2)


def test_wrong_content_and_requests(client, engine, admin, session_id):
    text = client.post("/v1/analyze", content=b"hello", headers={**admin, "Content-Type": "text/plain"})
    assert text.status_code == 415 and "Unsupported content type" in text.json()["detail"]
    missing = client.post("/v1/analyze", headers=admin)
    assert missing.status_code == 415
    wrong_field = client.post(
        "/v1/analyze", files={"photo": ("a.jpg", jpeg(1, 7), "image/jpeg")}, headers=admin
    )
    assert wrong_field.status_code == 400 and "'file'" in wrong_field.json()["detail"]
    too_many = client.post(
        f"/v1/sessions/{session_id}/photos",
        files=[("files", (f"{i}.jpg", b"x", "image/jpeg")) for i in range(SETTINGS.max_files_per_upload + 1)],
        headers=admin,
    )
    assert too_many.status_code == 400 and "Too many files" in too_many.json()["detail"]
    nowhere = client.post(
        "/v1/sessions/999/photos", files=[("files", ("a.jpg", jpeg(1, 8), "image/jpeg"))], headers=admin
    )
    assert nowhere.status_code == 404
    assert client.post("/v1/sessions", json={"name": "   "}, headers=admin).status_code == 422
    assert client.get("/v1/trends", params={"bucket": "year"}, headers=admin).status_code == 422
    assert table_counts(engine) == (0, 0)


def test_database_down_is_503_not_500(client, engine, admin, session_id, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(queries, "save_photo", broken)
    upload = client.post(
        f"/v1/sessions/{session_id}/photos",
        files=[("files", ("a.jpg", jpeg(2, 9), "image/jpeg"))],
        headers=admin,
    )
    assert upload.status_code == 503 and upload.json()["files"][0]["status"] == "db_error"
    monkeypatch.setattr(queries, "list_event_sessions", broken)
    listed = client.get("/v1/sessions", headers=admin)
    assert listed.status_code == 503 and "database reported an error" in listed.json()["detail"]


def test_video_upload_and_report(client, engine, admin, session_id, tmp_path):
    from tests.test_video import write_clip

    clip = write_clip(tmp_path / "talk.mp4", [0.0, 1.0, 2.0]).read_bytes()
    url = f"/v1/sessions/{session_id}/video"
    start = {"start": "2026-11-30T10:00:00"}
    sent = client.post(url, params=start, files={"file": ("talk.mp4", clip, "video/mp4")}, headers=admin)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["frames_sampled"], body["frames_saved"], body["error"]) == (3, 3, None)
    photos, faces = table_counts(engine)
    assert photos == 3 and faces == body["faces_saved"] > 0
    raw = client.post(
        url,
        params={**start, "filename": "talk.mp4"},
        content=clip,
        headers={**admin, "Content-Type": "video/mp4"},
    )
    assert raw.json()["frames_already_stored"] == 3 and table_counts(engine) == (photos, faces)

    not_video = client.post(
        url, params=start, files={"file": ("x.mp4", b"not a video", "video/mp4")}, headers=admin
    )
    assert not_video.status_code == 400 and not_video.json()["error"]
    assert (
        client.post(
            url, params=start, content=b"x", headers={**admin, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    assert client.post(url, files={"file": ("t.mp4", clip, "video/mp4")}, headers=admin).status_code == 422
    viewer = bearer(engine, "read")
    assert (
        client.post(
            url, params=start, content=clip, headers={**viewer, "Content-Type": "video/mp4"}
        ).status_code
        == 403
    )
    assert table_counts(engine) == (photos, faces)

    report = client.get(f"/v1/sessions/{session_id}/report", headers=viewer)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "Bad input day" in report.text and "<img" not in report.text
    assert client.get("/v1/sessions/999/report", headers=viewer).status_code == 404
