"""Live webcam analysis off the video thread: the frame callback never waits for the model.

The callback hands each frame to `LiveAnalyzer.submit` (which only swaps a reference) and
draws the most recent results; one worker thread analyses whichever frame is newest and
skips the rest, so the video keeps its frame rate and never lags behind. Results reach the
page through a small `queue.Queue`; recording writes one sample per interval at most.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from db.timeutils import utcnow
from fer_core.annotate import annotate, draw_status
from fer_core.recognizer import FaceResult

LOGGER = logging.getLogger(__name__)

Analyze = Callable[[np.ndarray], list[FaceResult]]
#: save(session_id, observed_at, faces) -> rows written
Save = Callable[[int, datetime, Sequence[FaceResult]], int]
#: The worker thread ends after this long without frames (STOP pressed, tab closed).
IDLE_EXIT_S = 5.0


class RateMeter:
    """Events per second over a sliding window (thread-safe)."""

    def __init__(self, window_s: float = 3.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._times: deque[float] = deque()
        self._window, self._clock = window_s, clock
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        now = self._clock() if now is None else now
        with self._lock:
            self._times.append(now)
            self._trim(now)

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self._window:
            self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = self._clock() if now is None else now
        with self._lock:
            self._trim(now)
            if len(self._times) < 2:  # too few events for an interval: average over the window
                return len(self._times) / self._window
            span = self._times[-1] - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0


@dataclass(frozen=True)
class LiveUpdate:
    """A snapshot for the page: counters and the faces of the latest analysed frame."""

    frames_shown: int
    frames_analysed: int
    video_fps: float
    analysis_fps: float
    faces: list[dict] = field(default_factory=list)  # label, confidence, box
    recorded_faces: int = 0
    recording_session: int | None = None
    error: str | None = None


class LiveAnalyzer:
    """One per browser session: owns the worker thread, the latest results and the page queue.

    `clock` (seconds, monotonic) times the recording interval and the rates; tests pass their own.
    """

    def __init__(
        self,
        analyze: Analyze,
        save: Save | None = None,
        record_interval_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._analyze, self._save, self.record_interval_s = analyze, save, record_interval_s
        self._clock = clock
        self.updates: queue.Queue[LiveUpdate] = queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._new_frame = threading.Event()
        self._pending: np.ndarray | None = None
        self._latest: list[FaceResult] = []
        self._thread: threading.Thread | None = None
        self._frames_shown = 0
        self._frames_analysed = 0
        self._video_rate, self._analysis_rate = RateMeter(clock=clock), RateMeter(clock=clock)
        self._record_session: int | None = None
        self._last_record = 0.0
        self._recorded = 0
        self._error: str | None = None

    # -- called from the video thread --------------------------------------------------------------

    def submit(self, rgb: np.ndarray) -> None:
        """Offer a frame for analysis; an older frame still waiting is dropped."""
        with self._lock:
            self._pending = rgb
            self._frames_shown += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="campus-fer-live", daemon=True)
                self._thread.start()
        self._video_rate.tick()
        self._new_frame.set()

    def latest_faces(self) -> list[FaceResult]:
        with self._lock:
            return list(self._latest)

    def process_frame(self, rgb: np.ndarray) -> np.ndarray:
        """What the frame callback does: submit the frame, draw the latest results and the rates."""
        self.submit(rgb)
        out = annotate(rgb, self.latest_faces())
        return draw_status(
            out, f"{self._video_rate.rate():.0f} fps video | {self._analysis_rate.rate():.1f} fps analysed"
        )

    # -- called from the page -----------------------------------------------------------------------

    def configure(self, analyze: Analyze, save: Save | None, record_interval_s: float) -> None:
        """Point at the current recognizer/database/interval (they may change between script runs)."""
        self._analyze, self._save, self.record_interval_s = analyze, save, record_interval_s

    def set_recording(self, session_id: int | None) -> None:
        """Start (a session id) or stop (None) writing samples into an event session."""
        with self._lock:
            if session_id != self._record_session:
                self._record_session, self._last_record, self._error = session_id, 0.0, None

    def snapshot(self) -> LiveUpdate:
        with self._lock:
            faces = [{"label": f.label, "confidence": f.confidence, "box": f.box} for f in self._latest]
            return LiveUpdate(
                frames_shown=self._frames_shown,
                frames_analysed=self._frames_analysed,
                video_fps=self._video_rate.rate(),
                analysis_fps=self._analysis_rate.rate(),
                faces=faces,
                recorded_faces=self._recorded,
                recording_session=self._record_session,
                error=self._error,
            )

    # -- the worker thread --------------------------------------------------------------------------

    def _run(self) -> None:
        while self._new_frame.wait(timeout=IDLE_EXIT_S):
            self._new_frame.clear()
            with self._lock:
                frame, self._pending = self._pending, None
            if frame is None:
                continue
            try:
                faces = self._analyze(frame)
            except Exception as exc:  # keep the video running; say what went wrong on the page
                LOGGER.exception("live analysis failed")
                with self._lock:
                    self._error = (
                        f"Analysis failed ({type(exc).__name__}); showing the video without results."
                    )
                continue
            with self._lock:
                self._latest = faces
                self._frames_analysed += 1
            self._analysis_rate.tick()
            self._maybe_record(faces)
            self._publish()
        with self._lock:
            self._thread = None

    def _maybe_record(self, faces: list[FaceResult]) -> None:
        """Write this frame's faces if recording and the interval has passed: one sample per interval."""
        with self._lock:
            session_id = self._record_session
            due = session_id is not None and self._clock() - self._last_record >= self.record_interval_s
        if not due or not faces or self._save is None or session_id is None:
            return
        try:
            written = self._save(session_id, utcnow(), faces)
        except Exception as exc:
            LOGGER.exception("recording live observations failed")
            message = (
                f"Recording failed ({type(exc).__name__}): {exc}"
                if isinstance(exc, ValueError)
                else (
                    f"Recording failed: the database reported an error ({type(exc).__name__}). "
                    "Retrying later."
                )
            )
            with self._lock:
                self._error = message
                self._last_record = self._clock()
            return
        with self._lock:
            self._recorded += written
            self._last_record = self._clock()
            self._error = None

    def _publish(self) -> None:
        """Replace whatever the page has not read yet with the newest snapshot (never blocks)."""
        update = self.snapshot()
        with contextlib.suppress(queue.Empty):
            self.updates.get_nowait()
        with contextlib.suppress(queue.Full):
            self.updates.put_nowait(update)
