"""The API as deployed: a real uvicorn process with 2 workers on 127.0.0.1, sharing one SQLite file.

Concurrent uploads land in either worker; the same photos sent twice are stored once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from db import queries, tokens
from db.engine import make_engine
from fer_core.config import PROJECT_ROOT
from tests.actors import ADMIN
from tests.photos import encode, group_photo

STARTUP_TIMEOUT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(base URL, write token, database URL) of a running `uvicorn api.app:app --workers 2`."""
    url = f"sqlite:///{tmp_path_factory.mktemp('api_server') / 'api.sqlite3'}"
    engine = make_engine(url)
    _, token = tokens.create_token(engine, "server test", "admin", actor=ADMIN)
    engine.dispose()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--log-level", "warning"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "CAMPUS_FER_DATABASE_URL": url},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, "uvicorn exited during start-up"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start in time"
            time.sleep(0.5)
        yield base, token, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_two_workers_share_the_database(server):
    base, token, url = server
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        created = client.post("/v1/sessions", json={"name": "Concurrent uploads"})
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        photos = [encode(group_photo(2 + i % 3, seed=70 + i)[0]) for i in range(6)]

        def upload(i: int) -> httpx.Response:
            files = [("files", (f"p{i}.jpg", photos[i], "image/jpeg"))]
            return client.post(f"/v1/sessions/{session_id}/photos", files=files)

        with ThreadPoolExecutor(max_workers=6) as pool:
            first = list(pool.map(upload, range(6)))
            second = list(pool.map(upload, range(6)))
        assert [r.status_code for r in first + second] == [200] * 12
        assert [r.json()["files"][0]["status"] for r in first] == ["saved"] * 6
        assert [r.json()["files"][0]["status"] for r in second] == ["duplicate"] * 6
        analyzed = client.post("/v1/analyze", content=photos[0], headers={"Content-Type": "image/jpeg"})
        assert analyzed.status_code == 200 and analyzed.json()["n_faces"] == 2
        bad = client.post("/v1/analyze", content=b"not a photo", headers={"Content-Type": "image/jpeg"})
        assert bad.status_code == 400 and "not an image" in bad.json()["detail"]
        trends = client.get("/v1/trends", params={"bucket": "day", "format": "csv"})
        assert trends.status_code == 200 and trends.text.startswith("bucket_start,expression")
    engine = make_engine(url)
    try:
        info = queries.get_event_session(engine, session_id)
        assert (info.n_photos, info.n_faces) == (6, sum(2 + i % 3 for i in range(6)))
    finally:
        engine.dispose()


def test_no_token_is_401_over_http(server):
    base, _, _ = server
    response = httpx.get(f"{base}/v1/sessions", timeout=10)
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing bearer token (Authorization: Bearer <token>)."}
    docs = httpx.get(f"{base}/openapi.json", timeout=10)
    assert docs.status_code == 200 and "/v1/sessions/{session_id}/photos" in docs.json()["paths"]
