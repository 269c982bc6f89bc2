"""Per-batch augmentation on uint8 faces toward real photos (numpy + OpenCV, no TF graph cost)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fer_core.labels import INPUT_SIZE
from fer_core.preprocess import as_small_face


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges around FER2013's own framing, and the ways real event photos differ from it.

    The geometric jitter (rotation, scale, shift) covers what is left after serving frames a
    detected face like a FER2013 face and levels its eyes; the photometric part covers lighting
    (brightness, contrast, gamma), focus and compression (blur, JPEG) and hands or objects in
    front of a face (erasing).
    """

    flip: bool = True
    max_rotation_deg: float = 10.0
    max_shift: float = 0.1  # fraction of the side
    zoom: tuple[float, float] = (0.9, 1.1)
    brightness: float = 0.15  # +- fraction of 255
    contrast: tuple[float, float] = (0.8, 1.2)
    gamma_probability: float = 0.0
    gamma: tuple[float, float] = (0.67, 1.5)
    blur_probability: float = 0.0
    blur_sigma: tuple[float, float] = (0.4, 1.2)
    jpeg_probability: float = 0.0
    jpeg_quality: tuple[int, int] = (25, 90)
    erase_probability: float = 0.25
    erase_area: tuple[float, float] = (0.02, 0.1)
    # Small faces of a crowded hall: with this probability the face is shrunk to a side drawn
    # uniformly from small_side px and scaled back up, exactly as serving upscales small crops.
    small_probability: float = 0.0
    small_side: tuple[int, int] = (10, 47)


#: The photo-like recipe of model v3 (FER+ votes): every augmentation above switched on.
REAL_PHOTO_AUGMENT = AugmentConfig(
    gamma_probability=0.3,
    blur_probability=0.15,
    jpeg_probability=0.2,
    erase_probability=0.3,
    erase_area=(0.02, 0.15),
    small_probability=0.3,
)


def _photometric(face: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Brightness, contrast, gamma on a float32 face in 0..255."""
    face = (face - 128.0) * rng.uniform(*cfg.contrast) + 128.0
    face += rng.uniform(-cfg.brightness, cfg.brightness) * 255.0
    face = np.clip(face, 0.0, 255.0)
    if rng.random() < cfg.gamma_probability:
        face = 255.0 * (face / 255.0) ** rng.uniform(*cfg.gamma)
    return face


def _erase(face: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> None:
    area = rng.uniform(*cfg.erase_area) * INPUT_SIZE * INPUT_SIZE
    side_ratio = rng.uniform(0.5, 2.0)
    h = int(min(INPUT_SIZE, np.sqrt(area * side_ratio)))
    w = int(min(INPUT_SIZE, np.sqrt(area / side_ratio)))
    y, x = rng.integers(0, INPUT_SIZE - h + 1), rng.integers(0, INPUT_SIZE - w + 1)
    face[y : y + h, x : x + w] = rng.uniform(0, 255)


def augment_batch(faces: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Random flip, rotation, zoom, shift, lighting, blur, JPEG, erasing and shrinking of (N,48,48) uint8."""
    out = np.empty_like(faces)
    centre = (INPUT_SIZE / 2 - 0.5, INPUT_SIZE / 2 - 0.5)
    for i, face in enumerate(faces):
        angle = rng.uniform(-cfg.max_rotation_deg, cfg.max_rotation_deg)
        scale = rng.uniform(*cfg.zoom)
        matrix = cv2.getRotationMatrix2D(centre, angle, scale)
        matrix[:, 2] += rng.uniform(-cfg.max_shift, cfg.max_shift, size=2) * INPUT_SIZE
        if cfg.flip and rng.random() < 0.5:
            face = face[:, ::-1]
        warped = cv2.warpAffine(
            np.ascontiguousarray(face),
            matrix,
            (INPUT_SIZE, INPUT_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ).astype(np.float32)
        warped = _photometric(warped, rng, cfg)
        if rng.random() < cfg.erase_probability:
            _erase(warped, rng, cfg)
        face = np.clip(warped, 0, 255).astype(np.uint8)
        if rng.random() < cfg.blur_probability:
            face = cv2.GaussianBlur(face, (0, 0), rng.uniform(*cfg.blur_sigma))
        if rng.random() < cfg.small_probability:
            face = as_small_face(face, int(rng.integers(cfg.small_side[0], cfg.small_side[1] + 1)))
        if rng.random() < cfg.jpeg_probability:
            quality = int(rng.integers(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1))
            _, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
            face = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
        out[i] = face
    return out


def mix_batch(
    faces: np.ndarray, targets: np.ndarray, weights: np.ndarray, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mixup: blend each face with a random partner of its batch, lambda ~ Beta(alpha, alpha).

    Targets and sample weights blend by the same lambda. A distillation teacher then labels the
    blended faces themselves, so the student matches the teacher's function between faces too
    (Beyer et al. 2022, "a good teacher is patient and consistent"), not only on FER2013's images.
    """
    if alpha <= 0:
        return faces, targets, weights
    partner = rng.permutation(len(faces))
    lam = rng.beta(alpha, alpha, size=len(faces)).astype(np.float32)

    def blend(x: np.ndarray) -> np.ndarray:
        share = lam.reshape(-1, *([1] * (x.ndim - 1)))  # one lambda per face, over all its axes
        return (share * x + (1.0 - share) * x[partner]).astype(np.float32)

    return np.clip(np.rint(blend(faces)), 0, 255).astype(np.uint8), blend(targets), blend(weights)
