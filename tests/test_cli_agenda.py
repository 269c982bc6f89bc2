"""`campus-fer agenda set/show/clear` through typer's CliRunner on a real SQLite file seeded with a
term of observations (tests/term_data.py): round trips, figures that match db.segments.unit_counts,
hidden segments, readable errors with exit code 1, and the audit trail."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import Engine
from typer.testing import CliRunner

import cli
from campus_fer.agenda import agenda_from_csv
from campus_fer.stats import CLUSTER_BOOTSTRAP
from db import audit, segments
from db.engine import make_engine
from tests.actors import ADMIN
from tests.term_data import AGENDA, TERM_START, Term, seed_term

#: The seeded agenda's Welcome (3 photos, 18 faces) is under this threshold; the other segments are not.
MIN_FACES = 20


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine, Term]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli_agenda') / 'term.sqlite3'}"
    engine = make_engine(url)
    yield url, engine, seed_term(engine)
    engine.dispose()


@pytest.fixture(autouse=True)
def wide_consoles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps at 80 columns when not on a terminal; wide consoles keep each table row on one line."""
    monkeypatch.setattr(cli.context, "console", Console(width=200))
    monkeypatch.setattr(cli.context, "errors", Console(width=200, stderr=True))


def invoke(url: str, *args: str):
    env = {"CAMPUS_FER_MIN_FACES_PER_BUCKET": str(MIN_FACES)}
    return CliRunner().invoke(cli.app, ["--database-url", url, "agenda", *args], env=env)


def table_rows(output: str) -> dict[str, list[str]]:
    """Body rows of the rich tables in `output`, by their first cell."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in output.splitlines()]
    return {row[0]: row[1:] for row in rows if row}


def agenda_changes(engine: Engine, session_id: int) -> list[dict]:
    table = audit.audit_events(engine, actor=ADMIN, actions=["agenda_changed"])
    return table[table["session_id"] == session_id].iloc[::-1].to_dict("records")


def stored(engine: Engine, session_id: int) -> list[tuple]:
    return [(s.name, s.starts_at, s.ends_at) for s in segments.agenda(engine, session_id)]


def test_set_show_clear_round_trip(seeded, tmp_path):
    url, engine, term = seeded
    session_id = term.session_ids[0]  # "Week 1 seminar" on 2025-09-23 (its event date), no agenda yet
    csv_path = tmp_path / "agenda.csv"
    csv_path.write_text(AGENDA, encoding="utf-8")

    saved = invoke(url, "set", "Week 1 seminar", "--csv", str(csv_path))  # times on the event date
    assert saved.exit_code == 0, saved.output
    assert "Agenda of 'Week 1 seminar' saved: 4 segments." in saved.output
    expected = [
        (s.name, s.starts_at, s.ends_at) for s in agenda_from_csv(AGENDA, TERM_START + timedelta(days=1))
    ]
    assert stored(engine, session_id) == expected
    assert table_rows(saved.output)["Keynote"] == ["2025-09-23 10:15-11:00"]

    shown = invoke(url, "show", str(session_id))
    assert shown.exit_code == 0, shown.output
    rows = table_rows(shown.output)
    units = segments.unit_counts(engine, session_id)
    for segment in segments.agenda(engine, session_id):
        mine = units[units["segment_id"] == segment.id]
        photos = int((mine["faces"] + mine["small_faces"] > 0).sum())
        faces, small = int(mine["faces"].sum()), int(mine["small_faces"].sum())
        assert rows[segment.name][1:4] == [str(photos), str(faces), str(small)]
        assert rows[segment.name][4] == (
            "yes" if faces >= MIN_FACES else f"hidden (fewer than {MIN_FACES} faces)"
        )
        title = f"{segment.name}: {faces} readable faces in {photos} photos"
        assert (title in shown.output) == (faces >= MIN_FACES)  # a mix only for shown segments
    assert rows["Welcome"][4] == "hidden (fewer than 20 faces)"
    assert "Keynote: 42 readable faces in 7 photos" in shown.output
    assert rows["neutral"][0].isdigit() and "%" in rows["neutral"][2]  # a mix row: faces, share, interval
    assert "Intervals on shares: Wilson (too few photos for a bootstrap; may be too narrow)." in shown.output

    cleared = invoke(url, "clear", "Week 1 seminar")
    assert cleared.exit_code == 0
    assert "Agenda of 'Week 1 seminar' cleared (4 segments removed)." in cleared.output
    assert stored(engine, session_id) == []
    empty = invoke(url, "show", "Week 1 seminar")
    assert empty.exit_code == 0 and "'Week 1 seminar' has no agenda" in empty.output

    changes = agenda_changes(engine, session_id)
    assert [(c["actor"], c["source"]) for c in changes] == [(f"cli:{getpass.getuser()}", "cli")] * 2
    assert [(c["detail"]["segments_before"], c["detail"]["segments"]) for c in changes] == [(0, 4), (4, 0)]


def test_date_option_and_full_datetimes(seeded, tmp_path):
    url, engine, term = seeded
    session_id = term.session_ids[1]
    times = tmp_path / "times.csv"
    times.write_text("name,start,end\nMorning,10:00,11:00\n", encoding="utf-8")
    assert invoke(url, "set", str(session_id), "--csv", str(times), "--date", "2025-10-01").exit_code == 0
    assert [(s[1].isoformat(), s[2].isoformat()) for s in stored(engine, session_id)] == [
        ("2025-10-01T10:00:00", "2025-10-01T11:00:00")
    ]
    full = tmp_path / "full.csv"
    full.write_text(
        "name,start,end\nMorning,2025-09-30 10:00,2025-09-30 11:00\nLate,2025-09-30 11:30,2025-09-30 11:40\n",
        encoding="utf-8",
    )
    shown = invoke(url, "set", str(session_id), "--csv", str(full))
    assert shown.exit_code == 0 and "saved: 2 segments" in shown.output
    output = invoke(url, "show", str(session_id)).output
    rows = table_rows(output)
    assert rows["Morning"][:4] == ["2025-09-30 10:00-11:00", "10", "60", "0"]
    assert rows["Late"][:4] == ["2025-09-30 11:30-11:40", "2", "12", "0"]
    assert "48 readable faces fall outside every segment" in output
    shares_line = next(line for line in output.splitlines() if line.startswith("Intervals on shares:"))
    assert CLUSTER_BOOTSTRAP in shares_line  # ten photos in Morning: whole photos are resampled


def test_show_prints_the_clear_verdicts(seeded):
    url, _, term = seeded
    shown = invoke(url, "show", str(term.with_agenda))  # the workshop of the last week landed well
    assert shown.exit_code == 0
    verdicts = [line for line in shown.output.splitlines() if line.startswith("- ")]
    assert any(v.startswith("- 'happy' was") and "more frequent than in the rest" in v for v in verdicts)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,start,end\nA,09:00,10:00\nB,09:30,11:00\n", "'A' and 'B' overlap"),
        ("name,start,end\nTalk,10:00,09:00\n", "Agenda row 1 ('Talk') ends before it starts."),
        ("name,start,end\n ,09:00,10:00\n", "Agenda row 1 has no name."),
        ("name,start\nTalk,09:00\n", "missing: end"),
        ("name,start,end\nTalk,soon,10:00\n", "cannot read start time 'soon'"),
        (b"\xff\xd8\xff\xe0 not text", "as UTF-8 text"),
    ],
)
def test_bad_csv_exits_1_with_a_readable_message_and_changes_nothing(seeded, tmp_path, content, message):
    url, engine, term = seeded
    session_id = term.with_agenda
    before, audited = stored(engine, session_id), len(agenda_changes(engine, session_id))
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = invoke(url, "set", str(session_id), "--csv", str(path))
    assert result.exit_code == 1
    assert message in result.output
    assert stored(engine, session_id) == before
    assert len(agenda_changes(engine, session_id)) == audited


def test_unknown_session_exits_2(seeded, tmp_path: Path):
    url, _, _ = seeded
    csv_path = tmp_path / "agenda.csv"
    csv_path.write_text(AGENDA, encoding="utf-8")
    for args in (
        ("set", "No such event", "--csv", str(csv_path)),
        ("show", "999"),
        ("clear", "No such event"),
    ):
        result = invoke(url, *args)
        assert result.exit_code == 2, args  # like every other command given an unknown session
        assert f"No session '{args[1]}'" in result.output
