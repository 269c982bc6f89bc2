"""Synthetic event photos with real faces (scikit-image's astronaut), JPEG-encoded like a camera's."""

from __future__ import annotations

import numpy as np

from tests.photos import encode, group_photo

#: Sizes from a phone's 720p frame to a 12 Mpx camera.
SIZES: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080), (2560, 1440), (3264, 2448), (4000, 3000))


def event_photos(n_photos: int, sizes=SIZES, faces=(1, 20), seed: int = 0) -> list[tuple[bytes, int]]:
    """(JPEG bytes, number of faces) for each photo; sizes cycle, face counts are random."""
    rng = np.random.default_rng(seed)
    photos = []
    for i in range(n_photos):
        n_faces = int(rng.integers(faces[0], faces[1] + 1))
        rgb, _ = group_photo(n_faces, size=sizes[i % len(sizes)], seed=seed * 100_000 + i)
        photos.append((encode(rgb, "JPEG", quality=90), n_faces))
    return photos
