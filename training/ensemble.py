"""Build the served model from several trained CNNs: one graph that averages their logits.

    python -m training.ensemble --members runs/v2a/best.keras runs/m2/best.keras runs/m3/best.keras

Averaging logits (not probabilities) keeps a single Softmax, so `training.calibrate` fits one
temperature for the whole ensemble, and `training.quantize` turns it into one int8 graph: the
recognizer, the API and the Ray workers serve it like any single model (one pass, no code of
their own). Writes models/fer_cnn.keras and models/fer_cnn.onnx; then run training.quantize,
training.calibrate and training.evaluate as for a single model.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from keras import layers  # noqa: E402

from fer_core.config import ENSEMBLE_PATH, KERAS_MODEL_PATH, ONNX_MODEL_PATH  # noqa: E402
from fer_core.labels import INPUT_SIZE  # noqa: E402
from training.evaluate import read_history, training_summary  # noqa: E402
from training.export import export_onnx, float32_copy  # noqa: E402

#: Name of the layer whose output every member contributes (fer_core.model.build_cnn's logits).
LOGITS_LAYER = "logits"


def build_ensemble(members: Sequence[keras.Model]) -> keras.Model:
    """One model: the face into every member, the mean of their logits, one softmax."""
    if len(members) < 2:
        raise ValueError("an ensemble needs at least two members")
    face = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    logits = []
    for number, member in enumerate(members, start=1):
        plain = float32_copy(member)
        head = keras.Model(plain.input, plain.get_layer(LOGITS_LAYER).output, name=f"member_{number}")
        logits.append(head(face))
    mean = layers.Average(name="mean_logits")(logits)
    probabilities = layers.Activation("softmax", dtype="float32", name="probabilities")(mean)
    return keras.Model(face, probabilities, name="fer_cnn_ensemble")


def member_record(path: Path) -> dict:
    """What the model card says of a member: its run's recipe (config.json) and training figures."""
    run = path.parent
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
    keys = ("init_weights", "seed", "epochs", "peak_lr", "warmup_epochs", "precision")
    recipe = {key: config.get(key) for key in keys}
    recipe["small_probability"] = config.get("augment", {}).get("small_probability")
    return {"run": str(run), **recipe, **training_summary(read_history((run / "history.csv",)))}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="trained .keras files")
    parser.add_argument("--keras-out", type=Path, default=KERAS_MODEL_PATH)
    parser.add_argument("--onnx-out", type=Path, default=ONNX_MODEL_PATH)
    parser.add_argument("--record-out", type=Path, default=ENSEMBLE_PATH, help="the members' recipes (JSON)")
    args = parser.parse_args()
    members = [keras.models.load_model(path, compile=False) for path in args.members]
    model = build_ensemble(members)
    args.keras_out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.keras_out)
    export_onnx(model, args.onnx_out)
    records = [member_record(path) for path in args.members]
    args.record_out.write_text(json.dumps({"combine": "mean of logits", "members": records}, indent=2) + "\n")
    print(f"wrote {args.keras_out}, {args.onnx_out} and {args.record_out} ({len(members)} members)")


if __name__ == "__main__":
    main()
