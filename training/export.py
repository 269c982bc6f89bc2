"""Export a trained Keras model to the committed artefacts: float32 .keras and ONNX with its model id.

    python -m training.export --run-dir runs/main                      # model v2's files
    python -m training.export --run-dir checkpoints/ferplus-v3 --model-id ferplus-v3 \
        --keras-out models/ferplus_cnn.keras --onnx-out models/ferplus_cnn.onnx \
        --history-out models/ferplus_cnn.history.csv
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from fer_core.config import HISTORY_PATH, KERAS_MODEL_PATH, ONNX_MODEL_PATH  # noqa: E402
from fer_core.model import build_cnn  # noqa: E402
from fer_core.model_info import FER2013_V2_ID, write_model_id  # noqa: E402


def float32_copy(trained: keras.Model) -> keras.Model:
    """The same architecture and weights in float32, without optimizer state (small, exportable)."""
    keras.mixed_precision.set_global_policy("float32")
    widths = [layer.filters for layer in trained.layers if layer.name.endswith("c1_conv")]
    convs = [
        sum(1 for layer in trained.layers if layer.name.startswith(f"b{b}c") and layer.name.endswith("_conv"))
        for b in range(1, len(widths) + 1)
    ]
    separable = any(isinstance(layer, keras.layers.SeparableConv2D) for layer in trained.layers)
    model = build_cnn(widths=widths, convs_per_block=convs, separable=separable)
    model.set_weights([w.astype("float32") for w in trained.get_weights()])
    return model


def best_model(run_dir: Path) -> keras.Model:
    """The run's best epoch in float32: best.keras once the run has ended, else (a run still going
    or stopped) its best.weights.npz with the architecture in config.json."""
    if (run_dir / "best.keras").exists():
        return float32_copy(keras.models.load_model(run_dir / "best.keras", compile=False))
    import json

    from training.checkpoint import load_weights

    config = json.loads((run_dir / "config.json").read_text())
    keras.mixed_precision.set_global_policy("float32")
    model = build_cnn(
        widths=config["widths"],
        convs_per_block=config["convs_per_block"],
        separable=config.get("separable", False),
    )
    load_weights(run_dir / "best.weights.npz", model)
    return model


def export_onnx(model: keras.Model, path: Path) -> None:
    """ONNX with a dynamic batch dimension, opset 17 (onnxruntime on any recent version)."""
    import tensorflow as tf
    import tf2onnx

    signature = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="face"),)
    path.parent.mkdir(parents=True, exist_ok=True)
    tf2onnx.convert.from_keras(model, input_signature=signature, opset=17, output_path=str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--keras-out", type=Path, default=KERAS_MODEL_PATH)
    parser.add_argument("--onnx-out", type=Path, default=ONNX_MODEL_PATH)
    parser.add_argument("--history-out", type=Path, default=None, help="copy the run's history.csv here")
    parser.add_argument("--model-id", default=FER2013_V2_ID, help="short id stored with every reading")
    args = parser.parse_args()
    model = best_model(args.run_dir)
    args.keras_out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.keras_out)
    export_onnx(model, args.onnx_out)
    write_model_id(args.onnx_out, args.model_id)
    history_out = args.history_out or (HISTORY_PATH if args.keras_out == KERAS_MODEL_PATH else None)
    if (args.run_dir / "history.csv").exists() and history_out is not None:
        shutil.copy(args.run_dir / "history.csv", history_out)
    print(f"wrote {args.keras_out} and {args.onnx_out} ({args.model_id})")


if __name__ == "__main__":
    main()
