"""Reading uploaded images: multipart or raw bodies, the OpenAPI body they accept, and the HTTP
status of each kind of refused file (shared by /v1/analyze and the photo uploads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile

from campus_fer.ingest import ALLOWED_EXTENSIONS, Analysis, PhotoFile, RefusalKind

#: Room for multipart headers and boundaries on top of the files themselves.
MULTIPART_OVERHEAD = 64 * 1024
#: HTTP status for each kind of refused file.
REFUSAL_STATUS: dict[RefusalKind, int] = {
    "empty": 400,
    "unreadable": 400,
    "too_large": 413,
    "too_many_pixels": 413,
}
FORMATS = ", ".join(e.upper() for e in ALLOWED_EXTENSIONS)
BINARY = {"type": "string", "format": "binary"}


def image_body(field: str, many: bool) -> dict[str, Any]:
    """OpenAPI request body: multipart with `field`, or the raw image bytes."""
    part = {"type": "array", "items": BINARY} if many else BINARY
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {field: part}, "required": [field]}
                },
                "application/octet-stream": {"schema": BINARY},
                "image/jpeg": {"schema": BINARY},
            },
        }
    }


async def uploaded_files(request: Request, field: str, max_files: int) -> tuple[list[UploadFile], str | None]:
    """The uploaded files of a multipart body, or (no files, None) for a raw image body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form(max_files=max_files, max_fields=max_files + 8)
        uploads = [value for value in form.getlist(field) if isinstance(value, UploadFile)]
        if not uploads:
            await form.close()
            raise HTTPException(400, f"No file in the multipart field '{field}'.")
        return uploads, None
    if media.startswith("image/") or media == "application/octet-stream":
        return [], media
    shown = media or "none"
    raise HTTPException(
        415,
        f"Unsupported content type ({shown}). Send the image bytes ({FORMATS}) as image/* or "
        f"application/octet-stream, or multipart/form-data with a '{field}' field.",
    )


def read_files(uploads: list[UploadFile]) -> Iterator[PhotoFile]:
    """Files one at a time, read on the worker thread (Starlette spools big parts to disk)."""
    for i, upload in enumerate(uploads):
        yield PhotoFile(upload.filename or f"file-{i + 1}", upload.file.read())


def refusal_error(analysis: Analysis) -> HTTPException:
    return HTTPException(REFUSAL_STATUS[analysis.refused_kind or "unreadable"], analysis.refused)
