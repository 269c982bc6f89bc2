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


def soft_cross_entropy(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy against target distributions (the FER+ raters' votes)."""
    return float(-np.mean(np.sum(targets * np.log(np.clip(probabilities, _EPS, 1.0)), axis=1)))


def fit_soft_temperature(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """The T > 0 that best matches the probabilities to the raters' vote distributions."""
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(
        lambda log_t: soft_cross_entropy(apply_temperature(probabilities, np.exp(log_t)), targets),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def with_class_bias(probabilities: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """softmax(log(p) + bias): a class-prior correction (bias = log of the prior ratio)."""
    logits = np.log(np.clip(probabilities, _EPS, 1.0)) + np.asarray(bias)[None, :]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


#: The class-prior correction's search: offsets in this range, this step, this many sweeps.
BIAS_RANGE: float = 1.0
BIAS_STEP: float = 0.05
BIAS_SWEEPS: int = 3
#: Tolerated gap between predicted and labelled negative-affect share before it costs score.
NEGATIVE_SHARE_SLACK: float = 0.01


def decision_score(predicted: np.ndarray, labels: np.ndarray, negative: np.ndarray) -> float:
    """accuracy + macro-F1, less a penalty for a negative-affect share off the labels' by > 1 point."""
    from sklearn.metrics import f1_score

    n_classes = int(negative.shape[0])
    accuracy = float(np.mean(predicted == labels))
    macro_f1 = float(
        f1_score(labels, predicted, labels=list(range(n_classes)), average="macro", zero_division=0)
    )
    gap = abs(float(np.mean(negative[predicted])) - float(np.mean(negative[labels])))
    return accuracy + macro_f1 - 4.0 * max(0.0, gap - NEGATIVE_SHARE_SLACK)


#: Each unit of offset costs this much score, so the search moves a class only for a real gain.
BIAS_COST: float = 0.005


def fit_class_bias(
    probabilities: np.ndarray, labels: np.ndarray, negative: np.ndarray, keep: int
) -> np.ndarray:
    """Per-class logit offsets that make the model's top labels agree with `labels` as a whole:
    coordinate search maximising `decision_score` on held-out faces (PublicTest), class `keep` fixed
    at 0 (only differences matter). It moves no face's probabilities much, but decides ties between
    neighbouring expressions the way the raters' majority does, so that the shares the app sums
    neither over- nor under-state negative affect.
    """
    log_p = np.log(np.clip(probabilities, _EPS, 1.0))
    bias = np.zeros(probabilities.shape[1])
    grid = np.arange(-BIAS_RANGE, BIAS_RANGE + 1e-9, BIAS_STEP)

    def objective(b: np.ndarray) -> float:
        return decision_score((log_p + b).argmax(axis=1), labels, negative) - BIAS_COST * np.abs(b).sum()

    best = objective(bias)
    for _ in range(BIAS_SWEEPS):
        for c in range(len(bias)):
            if c == keep:
                continue
            for value in grid:
                trial = bias.copy()
                trial[c] = value
                score = objective(trial)
                if score > best + 1e-9:
                    best, bias = score, trial
    return bias
