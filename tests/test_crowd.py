"""Crowds: tiled detection finds the small faces a single downscaled pass loses, and only tiles crowds."""

from __future__ import annotations

import pytest

from fer_core.detect import Detection, YuNetDetector, merge_detections, tile_grid
from tests.photos import crowd_photo, group_photo, match_faces


def test_tiles_cover_the_image_with_overlap() -> None:
    tiles = tile_grid(1920, 1080, 960)
    assert len(tiles) == 6  # 3 across, 2 down
    covered = {(x, y) for x0, y0, x1, y1 in tiles for x in range(x0, x1, 40) for y in range(y0, y1, 40)}
    assert {(x, y) for x in range(0, 1920, 40) for y in range(0, 1080, 40)} <= covered
    assert all(x1 - x0 <= 960 and y1 - y0 <= 960 for x0, y0, x1, y1 in tiles)
    assert tile_grid(800, 600, 960) == [(0, 0, 800, 600)]


def test_merge_keeps_one_box_per_face_and_prefers_the_whole_face() -> None:
    whole = Detection((100, 100, 40, 50), 0.9)
    cut_by_a_tile = Detection((100, 100, 22, 50), 0.7)
    neighbour = Detection((150, 100, 40, 50), 0.8)
    assert merge_detections([cut_by_a_tile, whole, neighbour]) == [whole, neighbour]


def test_tiling_finds_the_small_faces_of_a_crowd() -> None:
    image, expected = crowd_photo(80, seed=7)
    single = YuNetDetector(tiling="never").detect(image)
    auto = YuNetDetector(tiling="auto")
    tiled = auto.detect(image)
    assert auto.would_tile(image)
    single_recall = match_faces([d.box for d in single], expected) / len(expected)
    tiled_recall = match_faces([d.box for d in tiled], expected) / len(expected)
    assert tiled_recall >= 0.9 > single_recall + 0.1, (single_recall, tiled_recall)
    assert len(tiled) <= len(expected) * 1.05  # merged: no face counted twice across tiles


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_ordinary_group_photos_are_not_tiled(size) -> None:
    image, _ = group_photo(7, size=size, seed=1)
    assert not YuNetDetector(tiling="auto").would_tile(image)
    with pytest.raises(ValueError, match="tiling must be one of"):
        YuNetDetector(tiling="sometimes")
