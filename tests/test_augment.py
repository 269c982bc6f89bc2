"""Training augmentation on uint8 faces: mixup blends faces, targets and weights by one lambda."""

from __future__ import annotations

import numpy as np

from fer_core.labels import NUM_CLASSES
from training.augment import mix_batch


def _batch(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    faces = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    targets = rng.dirichlet(np.ones(NUM_CLASSES), size=n).astype(np.float32)
    return faces, targets, rng.uniform(0.5, 3.0, n).astype(np.float32)


def test_mixup_blends_each_face_with_one_partner_by_the_lambda_of_its_target() -> None:
    faces, targets, weights = _batch(32, np.random.default_rng(0))
    mixed, blended, mixed_weights = mix_batch(faces, targets, weights, np.random.default_rng(1), alpha=0.4)
    assert mixed.dtype == np.uint8 and mixed.shape == faces.shape
    np.testing.assert_allclose(blended.sum(axis=1), 1.0, atol=1e-5)  # still distributions
    rng = np.random.default_rng(1)  # the same draws mix_batch made
    partner, lam = rng.permutation(32), rng.beta(0.4, 0.4, size=32)
    expected = lam[:, None, None] * faces + (1 - lam[:, None, None]) * faces[partner]
    assert np.abs(mixed - expected).max() <= 0.5 + 1e-3  # rounded to the nearest grey level
    np.testing.assert_allclose(
        blended, lam[:, None] * targets + (1 - lam[:, None]) * targets[partner], atol=1e-5
    )
    np.testing.assert_allclose(mixed_weights, lam * weights + (1 - lam) * weights[partner], rtol=1e-5)
    assert ((lam > 0.1) & (lam < 0.9)).any()  # some faces really are blends of two


def test_mixup_off_returns_the_batch_untouched_and_draws_nothing() -> None:
    faces, targets, weights = _batch(8, np.random.default_rng(0))
    rng = np.random.default_rng(3)
    out = mix_batch(faces, targets, weights, rng, alpha=0.0)
    assert out[0] is faces and out[1] is targets and out[2] is weights
    assert rng.random() == np.random.default_rng(3).random()  # a resumed older run sees the same draws
