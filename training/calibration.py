"""Temperature scaling and calibration error: stored probabilities are summed into shares, so a
model that is 90% sure must be right about 90% of the time.

Temperature scaling (Guo et al., 2017) divides the logits by one scalar T fitted on held-out data
(PublicTest); it changes no prediction, only how sure they are. log-probabilities are logits up to
a per-row constant, so T can be fitted and applied from a model's probabilities alone.
"""

from __future__ import annotations

import numpy as np

#: Bins of the expected calibration error and the reliability diagram.
ECE_BINS: int = 15
_EPS = 1e-12


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log(p) / T), row by row."""
    logits = np.log(np.clip(probabilities, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(labels)), labels], _EPS, 1.0))))


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T > 0 that minimises the negative log-likelihood of `labels` (bounded scalar search)."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(apply_temperature(probabilities, np.exp(log_t)), labels),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> dict:
    """Equal-width confidence bins: per bin the count, mean confidence and accuracy, and the
    expected calibration error (the count-weighted mean gap between the two)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / np.maximum(count, 1)
    accuracy = np.bincount(index, weights=correct.astype(float), minlength=bins) / np.maximum(count, 1)
    ece = float(np.sum(count / max(len(labels), 1) * np.abs(accuracy - mean_confidence)))
    return {
        "bins": bins,
        "ece": ece,
        "edges": edges.tolist(),
        "count": count.tolist(),
        "confidence": mean_confidence.tolist(),
        "accuracy": accuracy.tolist(),
    }
