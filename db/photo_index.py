"""Which files a session already holds, by content hash: re-running an import skips them unread."""

from __future__ import annotations

from sqlalchemy import Engine, select

from db.models import Photo
from db.queries import PhotoSaveResult


def stored_photos(engine: Engine, session_id: int) -> dict[str, PhotoSaveResult]:
    """content_hash -> the stored photo (as a "duplicate" save result) for every photo of the session."""
    query = select(Photo.content_hash, Photo.id, Photo.n_faces).where(Photo.session_id == session_id)
    with engine.connect() as connection:
        return {
            digest: PhotoSaveResult(status="duplicate", photo_id=photo_id, n_faces=n_faces)
            for digest, photo_id, n_faces in connection.execute(query)
        }
