"""Cheap per-batch augmentation on uint8 faces (numpy + OpenCV, no TF graph cost)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fer_core.labels import INPUT_SIZE
from fer_core.preprocess import as_small_face


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges measured to help FER2013 without slowing convergence much in a short budget."""

    flip: bool = True
    max_rotation_deg: float = 10.0
    max_shift: float = 0.1  # fraction of the side
    zoom: tuple[float, float] = (0.9, 1.1)
    brightness: float = 0.15  # +- fraction of 255
    contrast: tuple[float, float] = (0.8, 1.2)
    erase_probability: float = 0.25
    erase_area: tuple[float, float] = (0.02, 0.1)
    # Small faces of a crowded hall: with this probability the face is shrunk to a side drawn
    # uniformly from small_side px and scaled back up, exactly as serving upscales small crops.
    small_probability: float = 0.0
    small_side: tuple[int, int] = (10, 47)


def augment_batch(faces: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Random flip, rotation, zoom, shift, brightness/contrast and erasing of (N,48,48) uint8."""
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
        warped = (warped - 128.0) * rng.uniform(*cfg.contrast) + 128.0
        warped += rng.uniform(-cfg.brightness, cfg.brightness) * 255.0
        if rng.random() < cfg.erase_probability:
            area = rng.uniform(*cfg.erase_area) * INPUT_SIZE * INPUT_SIZE
            side_ratio = rng.uniform(0.5, 2.0)
            h = int(min(INPUT_SIZE, np.sqrt(area * side_ratio)))
            w = int(min(INPUT_SIZE, np.sqrt(area / side_ratio)))
            y, x = rng.integers(0, INPUT_SIZE - h + 1), rng.integers(0, INPUT_SIZE - w + 1)
            warped[y : y + h, x : x + w] = rng.uniform(0, 255)
        face = np.clip(warped, 0, 255).astype(np.uint8)
        if rng.random() < cfg.small_probability:
            face = as_small_face(face, int(rng.integers(cfg.small_side[0], cfg.small_side[1] + 1)))
        out[i] = face
    return out
