"""Train the FER CNN on FER2013, resumable, one log line per epoch.

    python -m training.train --run-dir runs/main --epochs 55 --val publictest
    python -m training.train --run-dir runs/main ...      # same command again resumes
    python -m training.train --run-dir runs/fast --epochs 60 --val publictest \
        --widths 16 48 96 192 --convs 1 2 2 2 --teacher models/fer_cnn.int8.onnx   # the fast model

Writes to the run folder: best.keras (best validation accuracy), history.csv,
config.json and backup/ (the resumable state). `training.export` turns best.keras
into the committed models/ artefacts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_core.config import CACHE_DIR, FER2013_PATH  # noqa: E402
from fer_core.data import FaceDataset, load_fer2013, stratified_split  # noqa: E402
from fer_core.labels import NUM_CLASSES  # noqa: E402
from fer_core.model import build_cnn  # noqa: E402
from fer_core.preprocess import face_to_uint8, to_model_input  # noqa: E402
from training.augment import AugmentConfig, augment_batch  # noqa: E402
from training.distill import Teacher, blend_targets, onnx_teacher  # noqa: E402


@dataclass
class TrainConfig:
    """Everything that defines a run; saved next to it so a run can be reproduced."""

    data_path: str = str(FER2013_PATH)
    val: str = "split"  # "split": stratified 20% of Training; "publictest": PublicTest
    val_fraction: float = 0.2
    epochs: int = 55
    batch_size: int = 128
    peak_lr: float = 2e-3
    warmup_epochs: int = 2
    weight_decay: float = 1e-2
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # 0: none, 1: inverse frequency
    patience: int = 15
    precision: str = "mixed_bfloat16"
    seed: int = 42
    limit: int = 0  # use only this many training faces (smoke tests); 0 = all
    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_block: tuple[int, ...] = (1, 2, 3, 3)
    # Knowledge distillation (training.distill): an ONNX teacher labels each augmented batch and
    # its probabilities are blended with the true label by this weight.
    teacher: str = ""
    distill_weight: float = 0.7
    # Fine-tuning: start from a trained .keras model of the same architecture (a fresh cosine cycle).
    init_weights: str = ""
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class weights (n_max / n_c) ** power, scaled so the average face weighs 1."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1.0)) ** power
    return weights / (weights[labels].mean() if len(labels) else 1.0)


class AugmentedFaces(keras.utils.PyDataset):
    """Shuffled, augmented batches of (x, target y, sample weight).

    y is the one-hot label, or with a teacher the blend
    distill_weight * teacher(augmented faces) + (1 - distill_weight) * one-hot.
    """

    def __init__(
        self,
        faces: np.ndarray,
        labels: np.ndarray,
        weights: np.ndarray,
        cfg: TrainConfig,
        teacher: Teacher | None = None,
    ) -> None:
        super().__init__()
        self.faces, self.labels, self.weights, self.cfg = faces, labels, weights, cfg
        self.teacher = teacher
        self.rng = np.random.default_rng(cfg.seed)
        self.order = self.rng.permutation(len(labels))

    def __len__(self) -> int:
        return int(np.ceil(len(self.labels) / self.cfg.batch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = self.order[index * self.cfg.batch_size : (index + 1) * self.cfg.batch_size]
        faces = augment_batch(self.faces[idx], self.rng, self.cfg.augment)
        y = keras.utils.to_categorical(self.labels[idx], NUM_CLASSES)
        if self.teacher is not None:
            y = blend_targets(y, self.teacher(faces), self.cfg.distill_weight)
        return to_model_input(faces), y, self.weights[self.labels[idx]].astype(np.float32)

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.labels))


class EpochStats(keras.callbacks.Callback):
    """Adds wall seconds and learning rate to each epoch's logs (so history.csv keeps them)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start
            logs["lr"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))


def split_data(data: FaceDataset, cfg: TrainConfig) -> tuple[FaceDataset, FaceDataset]:
    """Training rows, and validation: 20% of them (stratified, seeded) or PublicTest."""
    train = data.subset("Training")
    if cfg.val == "publictest":
        val = data.subset("PublicTest")
    else:
        train_idx, val_idx = stratified_split(train.labels, cfg.val_fraction, cfg.seed)
        train, val = (
            FaceDataset(train.images[i], train.labels[i], train.splits[i]) for i in (train_idx, val_idx)
        )
    if cfg.limit:
        train = FaceDataset(train.images[: cfg.limit], train.labels[: cfg.limit], train.splits[: cfg.limit])
        val = FaceDataset(val.images[: cfg.limit], val.labels[: cfg.limit], val.splits[: cfg.limit])
    return train, val


def compile_model(cfg: TrainConfig, steps_per_epoch: int) -> keras.Model:
    keras.mixed_precision.set_global_policy(cfg.precision)
    model = build_cnn(widths=cfg.widths, convs_per_block=cfg.convs_per_block)
    warmup = cfg.warmup_epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.peak_lr / 20,
        decay_steps=max(1, cfg.epochs * steps_per_epoch - warmup),
        alpha=0.01,
        warmup_target=cfg.peak_lr,
        warmup_steps=warmup,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def train(cfg: TrainConfig, run_dir: Path) -> keras.Model:
    """Train (or resume) a run in run_dir and return the model of the last epoch."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    keras.utils.set_random_seed(cfg.seed)
    data = load_fer2013(cfg.data_path, CACHE_DIR)
    train_set, val_set = split_data(data, cfg)
    # Training faces take the same path as served faces (a no-op resize for 48x48 crops).
    train_faces = np.stack([face_to_uint8(f) for f in train_set.images])
    weights = class_weights(train_set.labels, cfg.class_weight_power)
    teacher = onnx_teacher(cfg.teacher) if cfg.teacher else None
    batches = AugmentedFaces(train_faces, train_set.labels, weights, cfg, teacher)
    x_val = to_model_input(np.stack([face_to_uint8(f) for f in val_set.images]))
    y_val = keras.utils.to_categorical(val_set.labels, NUM_CLASSES)
    print(
        f"train {len(train_set)} faces, validate on {len(val_set)} ({cfg.val}); "
        f"class weights {np.round(weights, 2).tolist()}",
        flush=True,
    )

    model = compile_model(cfg, len(batches))
    if cfg.init_weights:
        model.load_weights(cfg.init_weights)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        EpochStats(),
        keras.callbacks.ModelCheckpoint(
            str(run_dir / "best.keras"), monitor="val_accuracy", save_best_only=True, mode="max"
        ),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=cfg.patience),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]
    model.fit(batches, validation_data=(x_val, y_val), epochs=cfg.epochs, callbacks=callbacks, verbose=2)
    return model


def parse_args() -> tuple[TrainConfig, Path]:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--data", default=defaults.data_path, help="fer2013.csv(.gz) or image-folder root")
    parser.add_argument("--val", choices=("split", "publictest"), default=defaults.val)
    ints = ("epochs", "batch_size", "patience", "seed", "limit", "warmup_epochs")
    floats = ("peak_lr", "weight_decay", "label_smoothing", "class_weight_power", "distill_weight")
    for names, kind in ((ints, int), (floats, float)):
        for name in names:
            parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=getattr(defaults, name))
    parser.add_argument("--precision", choices=("mixed_bfloat16", "float32"), default=defaults.precision)
    parser.add_argument("--widths", type=int, nargs="+", default=list(defaults.widths))
    parser.add_argument("--convs", type=int, nargs="+", default=list(defaults.convs_per_block))
    parser.add_argument("--teacher", default="", help="ONNX model whose predictions the student learns")
    parser.add_argument("--init-weights", default="", help="fine-tune from this .keras model (same widths)")
    parser.add_argument(
        "--small-probability",
        type=float,
        default=defaults.augment.small_probability,
        help="share of training faces shrunk to 10-47 px and scaled back (small faces in crowds)",
    )
    args = parser.parse_args()
    if len(args.widths) != len(args.convs):
        parser.error("--widths and --convs need one number per block each")
    cfg = TrainConfig(
        data_path=args.data,
        val=args.val,
        precision=args.precision,
        widths=tuple(args.widths),
        convs_per_block=tuple(args.convs),
        teacher=args.teacher,
        init_weights=args.init_weights,
        augment=replace(defaults.augment, small_probability=args.small_probability),
        **{name: getattr(args, name) for name in (*ints, *floats)},
    )
    return cfg, args.run_dir


if __name__ == "__main__":
    config, directory = parse_args()
    train(config, directory)
