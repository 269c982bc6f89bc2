"""Bad inputs every door must refuse with a clear message and without writing anything."""

from __future__ import annotations

import struct
import zlib

from tests.photos import encode, group_photo


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG that claims to be 400 megapixels (decompression-bomb shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    data = encode(group_photo(3, seed=3)[0], "JPEG")
    return data[: len(data) // 2]


#: (case, file name, bytes, words the refusal must contain, kind) for the app's table of bad files.
BAD_FILES: list[tuple[str, str, bytes, str, str]] = [
    (
        "not_an_image",
        "notes.jpg",
        b"These are meeting notes, not a photo.\n" * 20,
        "not an image",
        "unreadable",
    ),
    ("empty", "empty.jpg", b"", "empty (0 bytes)", "empty"),
    ("bomb", "bomb.png", png_bomb(), "too large", "too_many_pixels"),
    ("truncated", "cut.jpg", truncated_jpeg(), "truncated or corrupt", "unreadable"),
]
