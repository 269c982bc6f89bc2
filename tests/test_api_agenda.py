"""The agenda through the REST API (TestClient, a real SQLite file seeded with a term of
observations by tests/term_data.py): set/read round trips, per-segment figures that match
db.segments.unit_counts, hidden segments, scopes, readable 422s and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from campus_fer.settings import AppSettings
from campus_fer.stats import CLUSTER_BOOTSTRAP
from db import audit, segments, tokens
from db.engine import make_engine
from fer_core.labels import EMOTIONS
from fer_core.recognizer import Recognizer
from tests.actors import ADMIN
from tests.term_data import FACES_PER_PHOTO, Term, seed_term

#: The seeded agenda's Welcome (3 photos, 18 faces) is under this threshold; the other segments are not.
MIN_FACES = 20
SETTINGS = AppSettings(min_faces_per_bucket=MIN_FACES)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Term]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('api_agenda') / 'term.sqlite3'}")
    yield engine, seed_term(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def client(seeded: tuple[Engine, Term]) -> Iterator[TestClient]:
    with TestClient(create_app(SETTINGS, seeded[0], Recognizer())) as client:
        yield client


@pytest.fixture(scope="module")
def headers(seeded: tuple[Engine, Term]) -> dict[str, dict[str, str]]:
    """Bearer headers per scope."""
    return {
        scope: {"Authorization": f"Bearer {tokens.create_token(seeded[0], scope, scope, actor=ADMIN)[1]}"}
        for scope in ("read", "write")
    }


def agenda_changes(engine: Engine, session_id: int) -> list[dict]:
    """This session's 'agenda_changed' audit rows, oldest first."""
    table = audit.audit_events(engine, actor=ADMIN, actions=["agenda_changed"])
    return table[table["session_id"] == session_id].iloc[::-1].to_dict("records")


def test_put_then_get_round_trips_in_utc_and_is_audited(client, seeded, headers):
    engine, term = seeded
    session_id = term.session_ids[0]  # Week 1 (2025-09-23), 20 photos 10:00-11:54 UTC, no agenda yet
    url = f"/v1/sessions/{session_id}/agenda"
    assert client.get(url, headers=headers["read"]).json() == []
    body = [
        {"name": "  Talk ", "starts_at": "2025-09-23T12:00:00+02:00", "ends_at": "2025-09-23T12:30:00+02:00"},
        {"name": "Opening", "starts_at": "2025-09-23T09:30:00", "ends_at": "2025-09-23T10:00:00Z"},
    ]
    put = client.put(url, json=body, headers=headers["write"])
    assert put.status_code == 200, put.text
    expected = [
        ("Opening", "2025-09-23T09:30:00Z", "2025-09-23T10:00:00Z"),
        ("Talk", "2025-09-23T10:00:00Z", "2025-09-23T10:30:00Z"),
    ]
    got = client.get(url, headers=headers["read"]).json()
    assert [(s["name"], s["starts_at"], s["ends_at"]) for s in got] == expected
    assert got == put.json()
    assert [s["id"] for s in got] == [s.id for s in segments.agenda(engine, session_id)]
    # What a GET answers can be sent back unchanged (its ids are ignored) ...
    again = client.put(url, json=got, headers=headers["write"])
    assert [(s["name"], s["starts_at"], s["ends_at"]) for s in again.json()] == expected
    # ... and an empty list clears the agenda.
    cleared = client.put(url, json=[], headers=headers["write"])
    assert cleared.status_code == 200 and cleared.json() == []
    assert segments.agenda(engine, session_id) == []

    changes = agenda_changes(engine, session_id)
    writer = tokens.find_active_token(engine, headers["write"]["Authorization"].removeprefix("Bearer "))
    assert [(c["actor"], c["role"], c["source"]) for c in changes] == [
        (writer.actor.email, "organizer", "api-token")
    ] * 3
    assert [(c["detail"]["segments_before"], c["detail"]["segments"]) for c in changes] == [
        (0, 2),
        (2, 2),
        (2, 0),
    ]


def test_segment_figures_match_unit_counts_and_small_segments_are_hidden(client, seeded, headers):
    engine, term = seeded
    session_id = term.with_agenda  # Welcome 10:00, Keynote 10:15, Break 11:00, Workshop 11:20-12:00
    response = client.get(f"/v1/sessions/{session_id}/segments", headers=headers["read"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["session_id"], body["min_faces"], body["confidence"]) == (session_id, MIN_FACES, 0.95)

    units = segments.unit_counts(engine, session_id)
    per_segment = units.groupby("segment_id")[["faces", "small_faces"]].sum()
    photos = units[units["faces"] + units["small_faces"] > 0].groupby("segment_id").size()
    assert body["outside_faces"] == int(units.loc[units["segment_id"] == segments.OUTSIDE, "faces"].sum())
    stored = segments.agenda(engine, session_id)
    assert [s["id"] for s in body["segments"]] == [s.id for s in stored]
    for segment in body["segments"]:
        assert (segment["faces"], segment["small_faces"], segment["photos"]) == (
            per_segment.loc[segment["id"], "faces"],
            per_segment.loc[segment["id"], "small_faces"],
            photos[segment["id"]],
        )
    by_name = {s["name"]: s for s in body["segments"]}
    assert [by_name[n]["faces"] for n in ("Welcome", "Keynote", "Break", "Workshop")] == [
        3 * FACES_PER_PHOTO,
        7 * FACES_PER_PHOTO,
        4 * FACES_PER_PHOTO,
        6 * FACES_PER_PHOTO,
    ]

    welcome = by_name["Welcome"]
    assert welcome["faces"] < MIN_FACES
    assert (welcome["shown"], welcome["mix"], welcome["versus_rest"]) == (False, [], [])
    for name in ("Keynote", "Break", "Workshop"):
        shown = by_name[name]
        assert shown["shown"]
        assert [m["expression"] for m in shown["mix"]] == list(EMOTIONS)
        assert sum(m["faces"] for m in shown["mix"]) == shown["faces"]
        assert sum(m["share"] for m in shown["mix"]) == pytest.approx(1.0)
        # 1e-12: statsmodels' Wilson gives a lower bound of 1.4e-17 for a share of exactly 0.
        assert all(m["low"] - 1e-12 <= m["share"] <= m["high"] for m in shown["mix"])
        assert [d["expression"] for d in shown["versus_rest"]] == list(EMOTIONS)
    workshop = by_name["Workshop"]  # 6 photos: too few for a bootstrap, so Wilson, and it says so
    assert {m["method"] for m in workshop["mix"]} == {
        "Wilson (too few photos for a bootstrap; may be too narrow)"
    }
    happy = next(d for d in workshop["versus_rest"] if d["expression"] == "happy")
    assert happy["difference"] == pytest.approx(happy["segment_share"] - happy["rest_share"])
    assert happy["clear"] and happy["low"] > 0  # the workshop landed well
    assert happy["verdict"].startswith("'happy' was") and "more frequent" in happy["verdict"]


def test_bootstrap_intervals_are_named(client, seeded, headers):
    """With ten or more photos in a segment the intervals resample whole photos, and say so."""
    engine, term = seeded
    session_id = term.session_ids[1]  # Week 2: photos every 6 minutes from 10:00
    agenda = [
        {"name": "Morning", "starts_at": "2025-09-30T10:00:00Z", "ends_at": "2025-09-30T11:00:00Z"},
        {"name": "Late", "starts_at": "2025-09-30T11:30:00Z", "ends_at": "2025-09-30T11:40:00Z"},
    ]
    assert client.put(f"/v1/sessions/{session_id}/agenda", json=agenda, headers=headers["write"]).is_success
    body = client.get(f"/v1/sessions/{session_id}/segments", headers=headers["read"]).json()
    morning, late = body["segments"]
    assert (morning["photos"], morning["faces"]) == (10, 10 * FACES_PER_PHOTO)
    assert CLUSTER_BOOTSTRAP in {m["method"] for m in morning["mix"]}
    assert (late["photos"], late["faces"], late["shown"]) == (2, 2 * FACES_PER_PHOTO, False)
    assert body["outside_faces"] == 8 * FACES_PER_PHOTO  # 11:00-11:24 and 11:42-11:54


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("Talk", "10:00", "09:00")], "Agenda row 1 ('Talk') ends before it starts."),
        ([("A", "09:00", "10:00"), ("B", "09:30", "11:00")], "'A' and 'B' overlap"),
        ([("A", "09:00", "10:00"), ("   ", "10:00", "11:00")], "Agenda row 2 has no name."),
    ],
)
def test_bad_agendas_are_422_with_a_readable_message_and_change_nothing(
    client, seeded, headers, rows, message
):
    engine, term = seeded
    session_id = term.with_agenda
    before, audited = segments.agenda(engine, session_id), len(agenda_changes(engine, session_id))
    body = [
        {"name": n, "starts_at": f"2025-12-09T{a}:00", "ends_at": f"2025-12-09T{b}:00"} for n, a, b in rows
    ]
    response = client.put(f"/v1/sessions/{session_id}/agenda", json=body, headers=headers["write"])
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert segments.agenda(engine, session_id) == before
    assert len(agenda_changes(engine, session_id)) == audited


def test_malformed_bodies_are_422_from_validation(client, seeded, headers):
    url = f"/v1/sessions/{seeded[1].with_agenda}/agenda"
    for body in ([{"name": "Talk", "starts_at": "soon", "ends_at": "2025-12-09T10:00:00"}], {"name": "x"}):
        response = client.put(url, json=body, headers=headers["write"])
        assert response.status_code == 422 and isinstance(response.json()["detail"], list)
    too_far = [{"name": "Edge", "starts_at": "0001-01-01T00:00:00+01:00", "ends_at": "0001-01-02T00:00:00Z"}]
    response = client.put(url, json=too_far, headers=headers["write"])
    assert response.status_code == 422 and "out of range" in response.text


def test_scopes_and_unknown_sessions(client, seeded, headers):
    engine, term = seeded
    session_id = term.with_agenda
    url = f"/v1/sessions/{session_id}/agenda"
    before = segments.agenda(engine, session_id)
    body = [{"name": "All day", "starts_at": "2025-12-09T08:00:00Z", "ends_at": "2025-12-09T18:00:00Z"}]
    refused = client.put(url, json=body, headers=headers["read"])
    assert refused.status_code == 403 and "needs 'write'" in refused.json()["detail"]
    assert client.put(url, json=body).status_code == 401
    assert client.get(url).status_code == 401
    assert client.get(f"/v1/sessions/{session_id}/segments").status_code == 401
    assert segments.agenda(engine, session_id) == before
    assert client.get(url, headers=headers["read"]).status_code == 200

    missing = max(term.session_ids) + 100
    for method, path in (("GET", "agenda"), ("PUT", "agenda"), ("GET", "segments")):
        response = client.request(
            method, f"/v1/sessions/{missing}/{path}", json=body if method == "PUT" else None,
            headers=headers["write"],
        )  # fmt: skip
        assert response.status_code == 404 and f"no event session {missing}" in response.json()["detail"]


def test_a_session_without_agenda_has_every_face_outside(client, seeded, headers):
    engine, term = seeded
    session_id = term.session_ids[2]
    body = client.get(f"/v1/sessions/{session_id}/segments", headers=headers["read"]).json()
    assert body["segments"] == []
    assert body["outside_faces"] == int(segments.unit_counts(engine, session_id)["faces"].sum()) > 0
