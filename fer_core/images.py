"""Decode user images safely: any mode, EXIF orientation, size limits, clear errors.

HEIC/HEIF (iPhone photos) open through the pillow-heif plugin registered here; libheif applies the
photo's orientation while decoding, so they come out upright like JPEGs.
"""

from __future__ import annotations

import io
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

#: Images above this many pixels are refused outright (decompression-bomb guard).
MAX_IMAGE_PIXELS: int = 120_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
register_heif_opener()

ImageSource = str | Path | bytes | bytearray | np.ndarray | Image.Image


class ImageError(ValueError):
    """An input that cannot be used as an image; the message is meant for the user."""


class ImageTooLargeError(ImageError):
    """An image with more than MAX_IMAGE_PIXELS pixels (a decompression bomb, or simply too big)."""


def _open(source: str | Path | bytes | bytearray) -> Image.Image:
    if isinstance(source, bytes | bytearray):
        if len(source) == 0:
            raise ImageError("the file is empty (0 bytes)")
        stream: io.BytesIO | Path = io.BytesIO(source)
    else:
        stream = Path(source)
        if not stream.is_file():
            raise ImageError(f"no such file: {stream}")
        if stream.stat().st_size == 0:
            raise ImageError(f"{stream.name} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(stream)
    except UnidentifiedImageError:
        raise ImageError("not an image file (or an unsupported format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageTooLargeError(f"image is too large (limit {MAX_IMAGE_PIXELS:,} pixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"the image is truncated or corrupt ({exc})") from None


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB from any PIL mode: 16-bit and float grays are rescaled, alpha is flattened on white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(img, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def decode_image(source: str | Path | bytes | bytearray, max_side: int | None = None) -> np.ndarray:
    """RGB uint8 (H, W, 3) from a file path or encoded bytes, upright per EXIF.

    With `max_side`, the image is shrunk so its longer side is at most that; JPEGs are
    then decoded at reduced scale, which is several times faster for camera photos.
    """
    img = _open(source)
    try:
        if max_side and max(img.size) > max_side:
            img.draft("RGB", (max_side, max_side))
        img.load()
        img = ImageOps.exif_transpose(img)
        img = _to_rgb(img)
        if max_side and max(img.size) > max_side:
            img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"the image is truncated or corrupt ({exc})") from None
    if img.width == 0 or img.height == 0:
        raise ImageError("the image has no pixels")
    return np.asarray(img, dtype=np.uint8)


def array_to_rgb(array: np.ndarray, color_order: str = "rgb") -> np.ndarray:
    """RGB uint8 (H, W, 3) from a gray/RGB/BGR/RGBA array of uint8, uint16 or float in [0, 1]."""
    array = np.asarray(array)
    if array.size == 0:
        raise ImageError("the image array is empty")
    if array.dtype == np.uint16:
        array = (array >> 8).astype(np.uint8)
    elif np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or array.min() < 0.0 or array.max() > 1.0:
            raise ImageError("float images must hold finite values in [0, 1]")
        array = np.round(array * 255.0).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ImageError(f"unsupported pixel type {array.dtype}; use uint8, uint16 or float")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageError(f"expected (H, W), (H, W, 3) or (H, W, 4) pixels, got shape {array.shape}")
    array = array[:, :, :3]
    if color_order == "bgr":
        array = array[:, :, ::-1]
    elif color_order != "rgb":
        raise ValueError(f"color_order must be 'rgb' or 'bgr', not {color_order!r}")
    return np.ascontiguousarray(array)


def load_image(source: ImageSource, color_order: str = "rgb", max_side: int | None = None) -> np.ndarray:
    """RGB uint8 (H, W, 3) from a path, encoded bytes, a PIL image or a pixel array."""
    if isinstance(source, np.ndarray):
        return array_to_rgb(source, color_order)
    if isinstance(source, Image.Image):
        return np.asarray(_to_rgb(ImageOps.exif_transpose(source)), dtype=np.uint8)
    if isinstance(source, str | Path | bytes | bytearray):
        return decode_image(source, max_side)
    raise ImageError(f"cannot read an image from a {type(source).__name__}")


_DATETIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
_DATETIME = ExifTags.Base.DateTime


def capture_time(source: str | Path | bytes | bytearray) -> datetime | None:
    """The camera's capture time from EXIF (DateTimeOriginal, else DateTime), if readable."""
    try:
        exif = _open(source).getexif()
        value = exif.get_ifd(ExifTags.IFD.Exif).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        return datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S") if value else None
    except (ImageError, ValueError, OSError):
        return None
