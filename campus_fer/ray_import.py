"""Past one machine: `campus-fer import ... --ray auto|ADDRESS` runs the same import on a Ray cluster.

Ray Data: the file list -> `map_batches` on an actor pool, one Recognizer per actor (each analyses
a few photos per call with campus_fer.folder_import.analyse_files) -> the analyses stream back to
this process, the one database writer, which saves each photo in its own transaction through the
ingest core (normally to PostgreSQL). Workers read the files by path, so the folder must be on
storage every node mounts at the same path (NFS, a shared PersistentVolume in KubeRay), and the
nodes' image must contain this project and its models/.

Ray is an optional extra (requirements-ray.txt); it is imported only here.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import Engine

from campus_fer.folder_import import PHOTOS_PER_TASK, FileRef, analyse_files, skipped_rest
from campus_fer.ingest import FileOutcome, store_analyses
from db.photo_index import stored_photos
from db.roles import Actor
from fer_core.config import PROJECT_ROOT
from fer_core.recognizer import Recognizer


class AnalyseBatch:
    """A Ray Data actor: builds its Recognizer once, then analyses batches of files."""

    def __init__(self, model_path: str, max_bytes: int, skip_hashes: frozenset[str]) -> None:
        self.recognizer = Recognizer(model_path)
        self.max_bytes, self.skip_hashes = max_bytes, skip_hashes

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        refs = list(zip(map(str, batch["path"]), map(str, batch["name"])))
        analyses = analyse_files(
            self.recognizer, refs, max_bytes=self.max_bytes, skip_hashes=self.skip_hashes
        )
        # Pickled: FaceResult keeps whatever fields the recognizer gives it, without a schema here.
        return {"analysis": [pickle.dumps(analysis) for analysis in analyses]}


def import_with_ray(
    engine: Engine,
    session_id: int,
    refs: Sequence[FileRef],
    *,
    address: str,
    model_path: str | Path,
    max_bytes: int,
    workers: int | None = None,
    on_progress: Callable[[int, FileOutcome], None] | None = None,
    actor: Actor,
) -> list[FileOutcome]:
    """Analyse `refs` on the Ray cluster at `address` ("auto": the one this machine belongs to) and
    store them here; one verdict per file, in file order. `workers`: actors (default: cluster CPUs)."""
    import ray

    known = stored_photos(engine, session_id)
    ray.init(
        address=address,
        logging_level=logging.WARNING,
        log_to_driver=False,
        # Nodes started from this checkout import the project from it; others need it in their image.
        runtime_env={"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}},
    )
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # verdicts in file order, like a local import
        context.enable_progress_bars = False
        actors = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        items = [{"path": path, "name": name} for path, name in refs]
        dataset = ray.data.from_items(
            items, override_num_blocks=max(1, len(items) // PHOTOS_PER_TASK)
        ).map_batches(
            AnalyseBatch,
            fn_constructor_kwargs={
                "model_path": str(model_path),
                "max_bytes": max_bytes,
                "skip_hashes": frozenset(known),
            },
            batch_size=PHOTOS_PER_TASK,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        analyses = (pickle.loads(row["analysis"]) for row in dataset.iter_rows())
        outcomes = list(
            store_analyses(engine, session_id, analyses, on_progress=on_progress, known=known, actor=actor)
        )
    finally:
        ray.shutdown()
    return outcomes + skipped_rest(refs, len(outcomes), on_progress)
