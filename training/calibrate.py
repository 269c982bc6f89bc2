"""Fit each served model's calibration on PublicTest and build it into its ONNX graph.

    python -m training.calibrate            # every committed servable export, in place

Two corrections, applied to the logits just before the Softmax:
- a **class-prior correction** (models fitted to FER+ votes only): a per-class offset added to the
  logits, the smallest that makes the top labels read faces as the raters' majority does as a whole
  (negative-affect share within a point, angry/fear/sad recall above their floors;
  `training.calibration.fit_class_bias`). A model trained on vote distributions can lean toward the
  classes raters agree on most (neutral, happy) and under-read negative affect (model v3 after its
  first epoch read 19% negative on PublicTest against the raters' 24%); this restores the balance
  without changing what the model learnt, and is zero for a model that needs none.
- a **temperature** (every model): the logits divided by one scalar T so that a face read at 80%
  is right about 80% of the time; fitted (negative log-likelihood) against the FER+ majority for a
  FER+ model, against FER2013's labels for a FER2013 model. It changes no top label. (Fitted against
  the vote distributions instead, a face 6 of 10 raters call neutral would be read "60% neutral",
  though the majority calls it neutral every time: under-confident against the majority, ECE 0.06
  on PrivateTest for model v3 at its first epoch, against 0.03 when fitted to the majority.)

Both are written to the model's metadata (`campus_fer.temperature`, `campus_fer.class_bias`),
which `training.evaluate` reads to report calibration before and after. A model that already has
them is refitted from its uncalibrated probabilities, so running this twice changes nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH, SERVABLE_EXPORTS, TRAINED_ON
from fer_core.data import load_fer2013, load_ferplus
from fer_core.labels import EMOTIONS, NEGATIVE_AFFECT, NUM_CLASSES
from fer_core.recognizer import Recognizer
from training.calibration import (
    MIN_RECALL,
    apply_temperature,
    fit_class_bias,
    fit_temperature,
    reliability,
    soft_cross_entropy,
    with_class_bias,
)

#: Metadata keys of the corrections built into a graph.
TEMPERATURE_KEY = "campus_fer.temperature"
CLASS_BIAS_KEY = "campus_fer.class_bias"
_BIASED = "campus_fer_class_biased_logits"
_BIAS = "campus_fer_class_bias"
_SCALED = "campus_fer_temperature_scaled_logits"
_FACTOR = "campus_fer_inverse_temperature"
#: Negative-affect classes as a mask over EMOTIONS (for the class-prior search).
NEGATIVE_MASK = np.array([name in NEGATIVE_AFFECT for name in EMOTIONS])


def _metadata(path: Path) -> dict[str, str]:
    import onnx

    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def built_in_temperature(path: Path) -> float:
    """The temperature built into an ONNX model (1.0 when it has none)."""
    return float(_metadata(path).get(TEMPERATURE_KEY, 1.0))


def built_in_class_bias(path: Path) -> np.ndarray:
    """The class-prior offsets built into an ONNX model (zeros when it has none)."""
    raw = _metadata(path).get(CLASS_BIAS_KEY)
    return np.asarray(json.loads(raw), dtype=np.float64) if raw else np.zeros(NUM_CLASSES)


def uncalibrated(probabilities: np.ndarray, temperature: float, bias: np.ndarray | None = None) -> np.ndarray:
    """The probabilities the graph gave before its corrections: softmax(log(p) * T - bias)."""
    raw = apply_temperature(probabilities, 1.0 / temperature)
    return raw if bias is None else with_class_bias(raw, -np.asarray(bias))


def _set_initializer(graph, name: str, value: np.ndarray) -> bool:
    from onnx import numpy_helper

    for init in graph.initializer:
        if init.name == name:
            init.CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))
            return True
    graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), name))
    return False


def set_calibration(path: Path, temperature: float, bias: np.ndarray | None = None) -> None:
    """Make the Softmax of the ONNX model at `path` read (logits + bias) / temperature,
    replacing any earlier corrections."""
    import onnx
    from onnx import helper

    bias = np.zeros(NUM_CLASSES) if bias is None else np.asarray(bias, dtype=np.float64)
    model = onnx.load(str(path))
    graph = model.graph
    softmax = [node for node in graph.node if node.op_type == "Softmax"]
    if len(softmax) != 1:
        raise ValueError(f"{path} has {len(softmax)} Softmax nodes; expected exactly one")
    existing = {node.output[0] for node in graph.node if node.output}
    if _SCALED not in existing:  # first time: logits -> Mul -> Softmax
        mul = helper.make_node(
            "Mul", [softmax[0].input[0], _FACTOR], [_SCALED], name="campus_fer_temperature"
        )
        softmax[0].input[0] = _SCALED
        graph.node.insert(list(graph.node).index(softmax[0]), mul)
    if _BIASED not in existing:  # logits -> Add -> Mul (a graph calibrated before biases existed too)
        mul = next(node for node in graph.node if node.output and node.output[0] == _SCALED)
        add = helper.make_node("Add", [mul.input[0], _BIAS], [_BIASED], name="campus_fer_class_bias")
        mul.input[0] = _BIASED
        graph.node.insert(list(graph.node).index(mul), add)
    _set_initializer(graph, _FACTOR, np.array(1.0 / temperature))
    _set_initializer(graph, _BIAS, bias.reshape(1, NUM_CLASSES))
    props = {p.key: p for p in model.metadata_props}
    for key, value in (
        (TEMPERATURE_KEY, repr(float(temperature))),
        (CLASS_BIAS_KEY, json.dumps(bias.tolist())),
    ):
        if key in props:
            props[key].value = value
        else:
            model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def set_temperature(path: Path, temperature: float) -> None:
    """A temperature alone (no class-prior correction)."""
    set_calibration(path, temperature, None)


def calibrate(path: Path, faces: np.ndarray, labels: np.ndarray, targets: np.ndarray | None = None) -> dict:
    """Fit one model's corrections on (faces, labels) and build them in; returns the figures.

    With `targets` (FER+ vote distributions, labels = their majority) the class-prior correction is
    fitted first, then the temperature; the figures include the cross-entropy against the votes.
    Without, the temperature alone.
    """
    raw = uncalibrated(
        Recognizer(path).predict_faces(faces), built_in_temperature(path), built_in_class_bias(path)
    )
    if targets is None:
        bias = np.zeros(NUM_CLASSES)
        temperature = fit_temperature(raw, labels)
    else:
        floors = {EMOTIONS.index(name): floor for name, floor in MIN_RECALL.items()}
        bias = fit_class_bias(raw, labels, NEGATIVE_MASK, keep=EMOTIONS.index("neutral"), min_recall=floors)
        temperature = fit_temperature(with_class_bias(raw, bias), labels)
    set_calibration(path, temperature, bias)
    after = Recognizer(path).predict_faces(faces)
    expected = apply_temperature(with_class_bias(raw, bias), temperature)
    np.testing.assert_allclose(after, expected, atol=3e-3)
    return {
        "temperature": temperature,
        "class_bias": dict(zip(EMOTIONS, np.round(bias, 3).tolist())),
        "ece_before": reliability(raw, labels)["ece"],
        "ece_after": reliability(after, labels)["ece"],
        "accuracy_before": float(np.mean(raw.argmax(axis=1) == labels)),
        "accuracy_after": float(np.mean(after.argmax(axis=1) == labels)),
        **({} if targets is None else {"vote_cross_entropy": soft_cross_entropy(after, targets)}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--ferplus", type=Path, default=FERPLUS_PATH)
    parser.add_argument("--models", type=Path, nargs="*", default=None, help="default: every servable export")
    args = parser.parse_args()
    data = load_fer2013(args.data, CACHE_DIR)
    votes = load_ferplus(args.ferplus)
    public = data.splits == "PublicTest"
    usable = public & votes.usable
    trained_on = {path.resolve(): TRAINED_ON[name] for name, _, path in SERVABLE_EXPORTS}
    for path in args.models or list(trained_on):
        if not path.exists():
            continue
        if trained_on.get(path.resolve(), "fer2013") == "ferplus":
            rows = usable
            figures = calibrate(path, data.images[rows], votes.majority[rows], votes.distributions()[rows])
        else:
            figures = calibrate(path, data.images[public], data.labels[public])
        print(
            f"{path}: T = {figures['temperature']:.3f}, class bias {figures['class_bias']}, PublicTest ECE "
            f"{figures['ece_before']:.4f} -> {figures['ece_after']:.4f}, accuracy "
            f"{figures['accuracy_before']:.4f} -> {figures['accuracy_after']:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
