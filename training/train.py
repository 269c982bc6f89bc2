"""Train the FER CNN on FER2013 faces, with FER+ crowd votes or FER2013's labels; resumable anywhere.

    python -m training.train --run-dir runs/v3 --labels ferplus --init-weights models/fer_cnn.keras \
        --epochs 18 --peak-lr 1e-3 --warmup-epochs 1 --augment real-photo
    python -m training.train --run-dir runs/v3 ...   # the same command again resumes where it stopped

A run writes a checkpoint (training.checkpoint: weights, optimizer slots, position in the schedule)
every `--checkpoint-minutes`, at every epoch end and when it receives SIGTERM or SIGINT, then exits;
the same command continues from that step with the same batches and learning rate. So a recipe
longer than one session is spread over several by committing the run folder's small files.

Run folder: config.json, history.csv (one row per epoch), log.csv (training loss every
`--log-every` steps), best.weights.npz (best validation epoch), checkpoint/, and best.keras
(float32, written when the run ends; `training.export` turns it into the committed models/).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH  # noqa: E402
from fer_core.data import load_fer2013, load_ferplus, stratified_split  # noqa: E402
from fer_core.labels import NUM_CLASSES  # noqa: E402
from fer_core.model import build_cnn  # noqa: E402
from fer_core.preprocess import face_to_uint8, to_model_input  # noqa: E402
from training.augment import REAL_PHOTO_AUGMENT, AugmentConfig, augment_batch, mix_batch  # noqa: E402
from training.checkpoint import (  # noqa: E402
    checkpoint_state,
    load_weights,
    restore_checkpoint,
    save_checkpoint,
    save_weights,
)
from training.distill import Teacher, blend_targets, onnx_teacher  # noqa: E402

AUGMENTS: dict[str, AugmentConfig] = {"fer2013": AugmentConfig(), "real-photo": REAL_PHOTO_AUGMENT}
BEST_WEIGHTS = "best.weights.npz"


def fastest_precision() -> str:
    """mixed_bfloat16 where the CPU computes bfloat16 natively (AVX-512 BF16 or AMX: 130 s vs 191 s
    per epoch on a Zen 4 host), float32 elsewhere (bfloat16 is emulated on AVX2-only CPUs: 14x slower)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "float32"
    return "mixed_bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


@dataclass
class TrainConfig:
    """Everything that defines a run; saved next to it so a run can be reproduced and resumed."""

    data_path: str = str(FER2013_PATH)
    # "fer2013": FER2013's single labels. "ferplus": the FER+ raters' vote distribution (rows FER+
    # dropped or whose plurality is contempt/unknown/not-a-face are left out; contempt, unknown and
    # not-a-face votes are dropped from the others), optionally blended with FER2013's label.
    labels: str = "fer2013"
    ferplus_path: str = str(FERPLUS_PATH)
    fer2013_blend: float = 0.0
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
    precision: str = "float32"
    seed: int = 42
    limit: int = 0  # use only this many training faces (smoke tests); 0 = all
    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_block: tuple[int, ...] = (1, 2, 3, 3)
    separable: bool = False  # depthwise-separable convolutions after the first (fer_core.model)
    # Knowledge distillation (training.distill): an ONNX teacher labels each augmented batch and
    # its probabilities are blended with the target by this weight.
    teacher: str = ""
    distill_weight: float = 0.7
    # Fine-tuning: start from a trained .keras model of the same architecture (a fresh cosine cycle).
    init_weights: str = ""
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    # Mixup (training.augment.mix_batch): each face blended with a partner, lambda ~ Beta(a, a); 0 = off.
    mixup_alpha: float = 0.0
    checkpoint_minutes: float = 10.0
    log_every: int = 25


# Fields that may change when a run resumes on another host without changing the recipe.
_HOST_FIELDS = ("precision", "checkpoint_minutes", "data_path", "ferplus_path")


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class weights (n_max / n_c) ** power, scaled so the average face weighs 1."""
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    weights = (counts.max() / np.maximum(counts, 1.0)) ** power
    return weights / (weights[labels].mean() if len(labels) else 1.0)


@dataclass(frozen=True)
class Faces:
    """Faces with a target distribution each and a hard label (for weights and accuracy)."""

    images: np.ndarray  # (N, 48, 48) uint8
    targets: np.ndarray  # (N, 7) float32
    labels: np.ndarray  # (N,) int

    def take(self, n: int) -> Faces:
        return Faces(self.images[:n], self.targets[:n], self.labels[:n]) if n else self


def load_faces(cfg: TrainConfig) -> tuple[Faces, Faces, dict[str, np.ndarray]]:
    """Training and validation faces with the run's targets, plus validation labels of both sets."""
    data = load_fer2013(cfg.data_path, CACHE_DIR)
    onehot = np.eye(NUM_CLASSES, dtype=np.float32)[data.labels]
    if cfg.labels == "ferplus":
        votes = load_ferplus(cfg.ferplus_path)
        if len(votes) != len(data):
            raise ValueError(f"FER+ has {len(votes)} rows, FER2013 {len(data)}: they must align row for row")
        targets = (1.0 - cfg.fer2013_blend) * votes.distributions() + cfg.fer2013_blend * onehot
        hard, keep = votes.majority, votes.usable
    else:
        votes, targets, hard, keep = None, onehot, data.labels, np.ones(len(data), bool)
    # Training faces take the same path as served faces (a no-op resize for 48x48 crops).
    images = np.stack([face_to_uint8(f) for f in data.images])
    train_rows = np.flatnonzero((data.splits == "Training") & keep)
    if cfg.val == "publictest":
        val_rows = np.flatnonzero((data.splits == "PublicTest") & keep)
    else:
        fit, held = stratified_split(hard[train_rows], cfg.val_fraction, cfg.seed)
        train_rows, val_rows = train_rows[fit], train_rows[held]
    train = Faces(images[train_rows], targets[train_rows], hard[train_rows]).take(cfg.limit)
    val = Faces(images[val_rows], targets[val_rows], hard[val_rows]).take(cfg.limit)
    both = {"fer2013": data.labels[val_rows][: cfg.limit or None]}
    if votes is not None:
        both["ferplus"] = votes.majority[val_rows][: cfg.limit or None]
    return train, val, both


class Batches:
    """Batch `step` of epoch `epoch` is a pure function of (seed, epoch, step): a resumed run
    sees exactly the batches and augmentations the interrupted one would have seen."""

    def __init__(self, faces: Faces, cfg: TrainConfig, teacher: Teacher | None = None) -> None:
        self.faces, self.cfg, self.teacher = faces, cfg, teacher
        self.class_weights = class_weights(faces.labels, cfg.class_weight_power).astype(np.float32)

    def __len__(self) -> int:
        return int(np.ceil(len(self.faces.labels) / self.cfg.batch_size))

    def get(self, epoch: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.random.default_rng([self.cfg.seed, epoch]).permutation(len(self.faces.labels))
        idx = order[step * self.cfg.batch_size : (step + 1) * self.cfg.batch_size]
        rng = np.random.default_rng([self.cfg.seed, epoch, step])
        faces = augment_batch(self.faces.images[idx], rng, self.cfg.augment)
        weights = self.class_weights[self.faces.labels[idx]]
        faces, y, weights = mix_batch(faces, self.faces.targets[idx], weights, rng, self.cfg.mixup_alpha)
        if self.teacher is not None:  # it labels the faces the student sees, blended ones included
            y = blend_targets(y, self.teacher(faces), self.cfg.distill_weight)
        return to_model_input(faces), y, weights


def compile_model(cfg: TrainConfig, steps_per_epoch: int) -> keras.Model:
    keras.mixed_precision.set_global_policy(cfg.precision)
    model = build_cnn(widths=cfg.widths, convs_per_block=cfg.convs_per_block, separable=cfg.separable)
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


class StopRequest:
    """Turns SIGTERM/SIGINT into a flag the loop checks after each step (then it saves and exits)."""

    def __init__(self) -> None:
        self.signal: int | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        self.signal = signum


def _keep_rows(path: Path, keep: Callable[[dict[str, str]], bool]) -> None:
    """Drop the rows a resumed run will write again (those after its checkpoint)."""
    if not path.exists():
        return
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if keep(r))


def _append_row(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _learning_rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def validate(model: keras.Model, val: Faces, labels: dict[str, np.ndarray]) -> dict[str, float]:
    probabilities = model.predict(to_model_input(val.images), batch_size=256, verbose=0)
    loss = keras.losses.categorical_crossentropy(val.targets, probabilities)
    predicted = probabilities.argmax(axis=1)
    scores = {"val_loss": float(np.mean(keras.ops.convert_to_numpy(loss)))}
    scores["val_accuracy"] = float(np.mean(predicted == val.labels))
    for name, truth in labels.items():
        scores[f"val_{name}_accuracy"] = float(np.mean(predicted == truth))
    return scores


def resolve_config(cfg: TrainConfig, run_dir: Path) -> TrainConfig:
    """A resumed run keeps its saved recipe; only host settings (precision, paths) may change."""
    saved_path = run_dir / "config.json"
    if checkpoint_state(run_dir) is None or not saved_path.exists():
        return cfg
    saved = json.loads(saved_path.read_text())
    saved["augment"] = AugmentConfig(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in saved["augment"].items()}
    )
    for key in ("widths", "convs_per_block"):
        saved[key] = tuple(saved[key])
    changed = [
        k for k, v in asdict(cfg).items() if k not in _HOST_FIELDS and asdict(TrainConfig(**saved))[k] != v
    ]
    if changed:
        print(f"resuming with the run's saved recipe; ignoring changed {', '.join(changed)}", flush=True)
    return replace(TrainConfig(**saved), **{k: getattr(cfg, k) for k in _HOST_FIELDS})


def train(cfg: TrainConfig, run_dir: Path) -> keras.Model:
    """Train (or resume) a run in run_dir and return the model as it stands at the end."""
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = resolve_config(cfg, run_dir)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    keras.utils.set_random_seed(cfg.seed)
    train_faces, val_faces, val_labels = load_faces(cfg)
    teacher = onnx_teacher(cfg.teacher) if cfg.teacher else None
    batches = Batches(train_faces, cfg, teacher)
    model = compile_model(cfg, len(batches))
    state = {"epoch": 0, "step": 0, "best": -1.0, "best_epoch": -1, "wall_seconds": 0.0, "stale_epochs": 0}
    if checkpoint_state(run_dir) is not None:
        state = restore_checkpoint(run_dir, model)
        print(f"resuming at epoch {state['epoch'] + 1}, step {state['step']} of {len(batches)}", flush=True)
        _keep_rows(run_dir / "history.csv", lambda r: int(r["epoch"]) < state["epoch"])
        done = state["epoch"] * len(batches) + state["step"]
        _keep_rows(run_dir / "log.csv", lambda r: int(r["global_step"]) <= done)
    elif cfg.init_weights:
        model.load_weights(cfg.init_weights)
    print(
        f"train {len(train_faces.labels)} faces ({cfg.labels} targets), validate on {len(val_faces.labels)} "
        f"({cfg.val}); {cfg.precision}; class weights {np.round(batches.class_weights, 2).tolist()}",
        flush=True,
    )
    stop = StopRequest()
    last_save, started = time.monotonic(), time.monotonic() - state["wall_seconds"]

    def snapshot() -> None:
        state["wall_seconds"] = time.monotonic() - started
        save_checkpoint(run_dir, model, state)

    with ThreadPoolExecutor(max_workers=1) as prefetch:
        while state["epoch"] < cfg.epochs and state["stale_epochs"] <= cfg.patience:
            epoch = state["epoch"]
            print(f"Epoch {epoch + 1}/{cfg.epochs}", flush=True)
            epoch_start, losses, window = time.monotonic(), [], []
            pending = prefetch.submit(batches.get, epoch, state["step"])
            while state["step"] < len(batches):
                x, y, w = pending.result()
                if state["step"] + 1 < len(batches):
                    pending = prefetch.submit(batches.get, epoch, state["step"] + 1)
                logs = model.train_on_batch(x, y, sample_weight=w, return_dict=True)
                losses.append(logs["loss"])
                window.append(logs["loss"])
                state["step"] += 1
                global_step = epoch * len(batches) + state["step"]
                if global_step % cfg.log_every == 0:
                    _append_row(run_dir / "log.csv", {
                        "global_step": global_step, "epoch": epoch, "loss": float(np.mean(window)),
                        "lr": _learning_rate(model), "wall_seconds": round(time.monotonic() - started, 1),
                    })  # fmt: skip
                    window = []
                if stop.signal is not None or time.monotonic() - last_save >= cfg.checkpoint_minutes * 60:
                    snapshot()
                    last_save = time.monotonic()
                    if stop.signal is not None:
                        print(f"stopped by signal {stop.signal} at epoch {epoch + 1} step {state['step']}; "
                              "run the same command to resume", flush=True)  # fmt: skip
                        raise SystemExit(0)
            scores = validate(model, val_faces, val_labels)
            if scores["val_accuracy"] > state["best"]:
                state.update(best=scores["val_accuracy"], best_epoch=epoch, stale_epochs=0)
                save_weights(run_dir / BEST_WEIGHTS, model)
            else:
                state["stale_epochs"] += 1
            row = {
                "epoch": epoch,
                "loss": float(np.mean(losses)) if losses else float("nan"),
                **scores,
                "lr": _learning_rate(model),
                "epoch_seconds": round(time.monotonic() - epoch_start, 1),
            }
            _append_row(run_dir / "history.csv", row)
            print(
                " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()),
                flush=True,
            )
            state.update(epoch=epoch + 1, step=0)
            snapshot()
            last_save = time.monotonic()
    if (run_dir / BEST_WEIGHTS).exists():
        write_best_keras(cfg, run_dir)
    return model


def write_best_keras(cfg: TrainConfig, run_dir: Path) -> Path:
    """best.keras in float32 from the best epoch's weights (what training.export reads)."""
    keras.mixed_precision.set_global_policy("float32")
    model = build_cnn(widths=cfg.widths, convs_per_block=cfg.convs_per_block, separable=cfg.separable)
    load_weights(run_dir / BEST_WEIGHTS, model)
    model.save(run_dir / "best.keras")
    return run_dir / "best.keras"


def parse_args() -> tuple[TrainConfig, Path]:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--data", default=defaults.data_path, help="fer2013.csv(.gz) or image-folder root")
    parser.add_argument("--labels", choices=("fer2013", "ferplus"), default=defaults.labels)
    parser.add_argument("--ferplus", default=defaults.ferplus_path, help="FER+ fer2013new.csv")
    parser.add_argument("--val", choices=("split", "publictest"), default=defaults.val)
    ints = ("epochs", "batch_size", "patience", "seed", "limit", "warmup_epochs", "log_every")
    floats = ("peak_lr", "weight_decay", "label_smoothing", "class_weight_power", "distill_weight",
              "fer2013_blend", "mixup_alpha", "checkpoint_minutes")  # fmt: skip
    for names, kind in ((ints, int), (floats, float)):
        for name in names:
            parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=getattr(defaults, name))
    parser.add_argument(
        "--precision", choices=("auto", "mixed_bfloat16", "float32"), default="auto",
        help="auto: bfloat16 where the CPU has native bfloat16, else float32",
    )  # fmt: skip
    parser.add_argument("--widths", type=int, nargs="+", default=list(defaults.widths))
    parser.add_argument("--convs", type=int, nargs="+", default=list(defaults.convs_per_block))
    parser.add_argument("--separable", action="store_true", help="depthwise-separable convolutions")
    parser.add_argument("--teacher", default="", help="ONNX model whose predictions the student learns")
    parser.add_argument("--init-weights", default="", help="fine-tune from this .keras model (same widths)")
    parser.add_argument("--augment", choices=tuple(AUGMENTS), default="fer2013")
    parser.add_argument(
        "--small-probability",
        type=float,
        default=None,
        help="share of training faces shrunk to 10-47 px and scaled back (small faces in crowds)",
    )
    args = parser.parse_args()
    if len(args.widths) != len(args.convs):
        parser.error("--widths and --convs need one number per block each")
    augment = AUGMENTS[args.augment]
    if args.small_probability is not None:
        augment = replace(augment, small_probability=args.small_probability)
    cfg = TrainConfig(
        data_path=args.data,
        labels=args.labels,
        ferplus_path=args.ferplus,
        val=args.val,
        precision=fastest_precision() if args.precision == "auto" else args.precision,
        widths=tuple(args.widths),
        convs_per_block=tuple(args.convs),
        separable=args.separable,
        teacher=args.teacher,
        init_weights=args.init_weights,
        augment=augment,
        **{name: getattr(args, name) for name in (*ints, *floats)},
    )
    return cfg, args.run_dir


if __name__ == "__main__":
    config, directory = parse_args()
    train(config, directory)
