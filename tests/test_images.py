"""Image decoding: every bad input gets a clear ImageError; odd modes are converted."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.images import ImageError, capture_time, decode_image, load_image
from tests.photos import encode, portrait


def test_not_an_image_truncated_and_empty_files_are_refused(tmp_path: Path) -> None:
    jpeg = encode(portrait())
    renamed = tmp_path / "notes.jpg"
    renamed.write_text("this is a text file renamed to .jpg")
    with pytest.raises(ImageError, match="not an image"):
        decode_image(renamed)
    with pytest.raises(ImageError, match="truncated or corrupt"):
        decode_image(jpeg[: len(jpeg) // 2])
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")
    empty_file = tmp_path / "empty.jpg"
    empty_file.touch()
    with pytest.raises(ImageError, match="empty"):
        decode_image(empty_file)
    with pytest.raises(ImageError, match="no such file"):
        decode_image(tmp_path / "missing.png")


def test_decompression_bomb_is_refused() -> None:
    huge = Image.new("1", (11_000, 11_000))  # 121 M pixels, a few KB as PNG
    with pytest.raises(ImageError, match="too large"):
        decode_image(_png(huge))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_large_photo_is_downscaled_on_decode() -> None:
    big = np.zeros((3000, 4000, 3), dtype=np.uint8)
    rgb = decode_image(encode(big), max_side=1920)
    assert max(rgb.shape[:2]) == 1920 and rgb.shape[2] == 3
    assert rgb.shape[0] == 1440


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "CMYK"])
def test_any_mode_becomes_rgb_uint8(mode: str) -> None:
    source = Image.fromarray(portrait())
    if mode == "I;16":
        converted = Image.fromarray(np.asarray(source.convert("L"), dtype=np.uint16) * 257)
        assert converted.mode == "I;16"
    else:
        converted = source.convert(mode)
    fmt = "TIFF" if mode in ("I;16", "CMYK") else "PNG"
    rgb = decode_image(_save(converted, fmt))
    assert rgb.dtype == np.uint8 and rgb.shape == (300, 300, 3)
    assert 40 < rgb.mean() < 220  # content survived (16-bit was rescaled, not clipped to black)


def _save(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_exif_orientation_is_respected_and_capture_time_read() -> None:
    wide = np.zeros((100, 200, 3), dtype=np.uint8)
    wide[:, :100] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    exif.get_ifd(0x8769)[0x9003] = "2026:09:14 10:30:05"  # DateTimeOriginal
    data = encode(wide, "JPEG", exif=exif.tobytes())
    upright = decode_image(data)
    assert upright.shape[:2] == (200, 100)
    assert upright[:100].mean() > 200 > upright[100:].mean()  # white half is now on top
    assert capture_time(data) == datetime(2026, 9, 14, 10, 30, 5)
    assert capture_time(encode(wide)) is None
    assert capture_time(b"not an image") is None


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((10, 10, 3), np.int64), "unsupported pixel type"),
        (np.zeros((10, 10, 2), np.uint8), "expected"),
        (np.zeros((2, 10, 10, 3), np.uint8), "expected"),
        (np.full((10, 10), 2.0, np.float32), r"\[0, 1\]"),
    ],
)
def test_bad_arrays_are_refused(array: np.ndarray, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        load_image(array)


def test_arrays_of_other_layouts_are_converted() -> None:
    rgb = portrait()
    bgr = rgb[:, :, ::-1]
    np.testing.assert_array_equal(load_image(bgr, color_order="bgr"), rgb)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(load_image(rgba), rgb)
    assert load_image(rgb[:, :, 0]).shape == (300, 300, 3)
    assert load_image(rgb.astype(np.uint16) * 257).dtype == np.uint8
    np.testing.assert_array_equal(load_image(rgb.astype(np.float32) / 255.0), rgb)
    with pytest.raises(ImageError, match="cannot read"):
        load_image(12345)  # type: ignore[arg-type]
