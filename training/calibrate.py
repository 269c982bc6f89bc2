"""Fit a softmax temperature on PublicTest and build it into the served ONNX graphs.

    python -m training.calibrate            # every committed servable export, in place

The temperature becomes a Mul on the logits just before the Softmax, so every consumer of the
model (app, API, CLI, Ray workers) gets calibrated probabilities with no code of its own; it is
also written to the model's metadata (`campus_fer.temperature`), which `training.evaluate`
reads to report calibration before and after. A model that already has one is refitted from
its uncalibrated probabilities, so running this twice changes nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fer_core.config import CACHE_DIR, FER2013_PATH, SERVABLE_EXPORTS
from fer_core.data import load_fer2013
from fer_core.recognizer import Recognizer
from training.calibration import apply_temperature, fit_temperature, reliability

#: Metadata key of the temperature built into a graph.
TEMPERATURE_KEY = "campus_fer.temperature"
_SCALED = "campus_fer_temperature_scaled_logits"
_FACTOR = "campus_fer_inverse_temperature"


def built_in_temperature(path: Path) -> float:
    """The temperature built into an ONNX model (1.0 when it has none)."""
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    return float(props.get(TEMPERATURE_KEY, 1.0))


def uncalibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities the graph gave before its temperature: softmax(log(p) * T)."""
    return apply_temperature(probabilities, 1.0 / temperature)


def set_temperature(path: Path, temperature: float) -> None:
    """Make the Softmax of the ONNX model at `path` read logits / temperature (replacing any earlier one)."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    softmax = [node for node in graph.node if node.op_type == "Softmax"]
    if len(softmax) != 1:
        raise ValueError(f"{path} has {len(softmax)} Softmax nodes; expected exactly one")
    scale = [node for node in graph.node if node.output and node.output[0] == _SCALED]
    if scale:  # already calibrated: replace the factor
        factor = next(init for init in graph.initializer if init.name == _FACTOR)
        factor.CopyFrom(numpy_helper.from_array(np.array(1.0 / temperature, np.float32), _FACTOR))
    else:
        graph.initializer.append(numpy_helper.from_array(np.array(1.0 / temperature, np.float32), _FACTOR))
        logits = softmax[0].input[0]
        mul = helper.make_node("Mul", [logits, _FACTOR], [_SCALED], name="campus_fer_temperature")
        softmax[0].input[0] = _SCALED
        graph.node.insert(list(graph.node).index(softmax[0]), mul)
    props = {p.key: p for p in model.metadata_props}
    if TEMPERATURE_KEY in props:
        props[TEMPERATURE_KEY].value = repr(float(temperature))
    else:
        model.metadata_props.append(onnx.StringStringEntryProto(key=TEMPERATURE_KEY, value=repr(temperature)))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def calibrate(path: Path, faces: np.ndarray, labels: np.ndarray) -> dict:
    """Fit the temperature of one model on (faces, labels) and build it in; returns the figures."""
    old = built_in_temperature(path)
    raw = uncalibrated(Recognizer(path).predict_faces(faces), old)
    temperature = fit_temperature(raw, labels)
    set_temperature(path, temperature)
    after = Recognizer(path).predict_faces(faces)
    np.testing.assert_allclose(after, apply_temperature(raw, temperature), atol=2e-3)
    return {
        "temperature": temperature,
        "ece_before": reliability(raw, labels)["ece"],
        "ece_after": reliability(after, labels)["ece"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--models", type=Path, nargs="*", default=[p for _, _, p in SERVABLE_EXPORTS])
    args = parser.parse_args()
    public = load_fer2013(args.data, CACHE_DIR).subset("PublicTest")
    for path in args.models:
        if not path.exists():
            continue
        figures = calibrate(path, public.images, public.labels)
        print(
            f"{path}: T = {figures['temperature']:.3f}, PublicTest ECE {figures['ece_before']:.4f} -> "
            f"{figures['ece_after']:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
