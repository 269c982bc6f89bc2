"""FER2013 loaders for the two layouts people have: the original CSV and image folders."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_core.labels import EMOTIONS, INPUT_SIZE, NUM_CLASSES

CSV_HEADER: tuple[str, ...] = ("emotion", "pixels", "Usage")
IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})
_PIXELS_PER_FACE = INPUT_SIZE * INPUT_SIZE


class MalformedDataError(ValueError):
    """A dataset row or file that cannot be used; the message names where."""


@dataclass(frozen=True)
class FaceDataset:
    """uint8 faces (N, 48, 48), int labels in EMOTIONS order and a split name per face."""

    images: np.ndarray
    labels: np.ndarray
    splits: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, *split_names: str) -> FaceDataset:
        mask = np.isin(self.splits, split_names)
        if not mask.any():
            known = sorted(set(self.splits.tolist()))
            raise KeyError(f"no rows in split(s) {split_names}; the dataset has {known}")
        return FaceDataset(self.images[mask], self.labels[mask], self.splits[mask])


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _parse_row(row: list[str], line_no: int) -> tuple[int, np.ndarray, str]:
    if len(row) != len(CSV_HEADER):
        raise MalformedDataError(f"row {line_no}: expected 3 fields, found {len(row)}")
    emotion_text, pixel_text, usage = row
    try:
        emotion = int(emotion_text)
    except ValueError:
        raise MalformedDataError(f"row {line_no}: emotion {emotion_text!r} is not an integer") from None
    if not 0 <= emotion < NUM_CLASSES:
        raise MalformedDataError(f"row {line_no}: emotion {emotion} is outside 0..{NUM_CLASSES - 1}")
    try:
        values = np.array(pixel_text.split(), dtype=np.int32)
    except ValueError:
        raise MalformedDataError(f"row {line_no}: pixels contain a non-integer value") from None
    if values.size != _PIXELS_PER_FACE:
        raise MalformedDataError(f"row {line_no}: expected {_PIXELS_PER_FACE} pixels, found {values.size}")
    if values.min() < 0 or values.max() > 255:
        raise MalformedDataError(f"row {line_no}: pixel values must lie in 0..255")
    if not usage.strip():
        raise MalformedDataError(f"row {line_no}: empty Usage")
    return emotion, values.astype(np.uint8).reshape(INPUT_SIZE, INPUT_SIZE), usage.strip()


def _iter_csv_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != CSV_HEADER:
            raise MalformedDataError(
                f"{path}: line 1 must be the header {','.join(CSV_HEADER)!r}, found {header!r}"
            )
        # Line numbers count the header as line 1, as an editor shows them.
        yield from enumerate(reader, start=2)


def load_fer2013_csv(path: str | Path) -> FaceDataset:
    """Read the original `emotion,pixels,Usage` CSV (plain or .gz)."""
    path = Path(path)
    images, labels, splits = [], [], []
    try:
        for line_no, row in _iter_csv_rows(path):
            emotion, face, usage = _parse_row(row, line_no)
            images.append(face)
            labels.append(emotion)
            splits.append(usage)
    except (gzip.BadGzipFile, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise MalformedDataError(f"{path}: unreadable ({exc})") from exc
    if not images:
        raise MalformedDataError(f"{path}: no data rows after the header")
    return FaceDataset(np.stack(images), np.asarray(labels, dtype=np.int64), np.asarray(splits))


def _label_for_folder(name: str, folder: Path) -> int:
    key = name.strip().lower()
    if key not in EMOTIONS:
        raise MalformedDataError(f"{folder}: folder {name!r} is not one of {', '.join(EMOTIONS)}")
    return EMOTIONS.index(key)


def load_image_folders(root: str | Path) -> FaceDataset:
    """Read the `<split>/<class>/*.jpg` layout (e.g. train/happy/0001.jpg)."""
    from fer_core.images import ImageError, load_image
    from fer_core.preprocess import face_to_uint8

    root = Path(root)
    if not root.is_dir():
        raise MalformedDataError(f"{root}: not a folder")
    images, labels, splits = [], [], []
    for split_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            label = _label_for_folder(class_dir.name, split_dir)
            for file in sorted(class_dir.iterdir()):
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:
                    rgb = load_image(file)
                except ImageError as exc:
                    raise MalformedDataError(f"{file}: {exc}") from exc
                images.append(face_to_uint8(rgb))
                labels.append(label)
                splits.append(split_dir.name)
    if not images:
        raise MalformedDataError(f"{root}: no images found in <split>/<class>/ folders")
    return FaceDataset(np.stack(images), np.asarray(labels, dtype=np.int64), np.asarray(splits))


def load_fer2013(path: str | Path, cache_dir: str | Path | None = None) -> FaceDataset:
    """Load either layout; CSVs are cached as .npz (keyed by size and mtime) when cache_dir is set."""
    path = Path(path)
    if path.is_dir():
        return load_image_folders(path)
    if not path.exists():
        raise FileNotFoundError(f"FER2013 not found at {path}")
    if cache_dir is None:
        return load_fer2013_csv(path)
    stat = path.stat()
    cache = Path(cache_dir) / f"{path.name}.{stat.st_size}.{int(stat.st_mtime)}.npz"
    if cache.exists():
        with np.load(cache) as npz:
            return FaceDataset(npz["images"], npz["labels"], npz["splits"])
    data = load_fer2013_csv(path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, images=data.images, labels=data.labels, splits=data.splits)
    return data


def stratified_split(
    labels: np.ndarray, val_fraction: float = 0.2, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded, class-stratified train/validation split."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train_idx, val_idx = train_test_split(indices, test_size=val_fraction, random_state=seed, stratify=labels)
    return np.sort(train_idx), np.sort(val_idx)


#: FER+ vote columns (its CSV order, which also breaks ties: neutral first) and their FER2013 class.
FERPLUS_COLUMNS: tuple[str, ...] = (
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF",
)  # fmt: skip
FERPLUS_TO_EMOTION: dict[str, str] = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
}


@dataclass(frozen=True)
class FerPlusVotes:
    """FER+ crowd votes aligned row for row with FER2013.

    `votes` (N, 7) counts the raters per expression in EMOTIONS order. Contempt, "unknown" and
    "not a face" have no FER2013 class: their votes are not in `votes`, and a row whose plurality
    (ties broken in the CSV's column order) is one of them, or that FER+ dropped (no image name),
    is not `usable`. `majority` is the plurality expression of usable rows, -1 elsewhere.
    """

    votes: np.ndarray
    majority: np.ndarray
    usable: np.ndarray
    splits: np.ndarray

    def __len__(self) -> int:
        return int(self.majority.shape[0])

    def distributions(self) -> np.ndarray:
        """Each usable row's votes as probabilities over the 7 expressions (zeros elsewhere)."""
        totals = self.votes.sum(axis=1, keepdims=True)
        return np.where(self.usable[:, None], self.votes / np.maximum(totals, 1.0), 0.0).astype(np.float32)


def load_ferplus(path: str | Path) -> FerPlusVotes:
    """Read FER+'s `fer2013new.csv` (Usage, Image name, 10 vote columns)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"FER+ votes not found at {path}")
    counts, splits, named = [], [], []
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = tuple(h.strip() for h in next(reader, ()))
        if header != ("Usage", "Image name", *FERPLUS_COLUMNS):
            raise MalformedDataError(f"{path}: unexpected header {header!r}")
        for line_no, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise MalformedDataError(
                    f"{path}: row {line_no} has {len(row)} fields, expected {len(header)}"
                )
            try:
                counts.append([int(v) for v in row[2:]])
            except ValueError:
                raise MalformedDataError(f"{path}: row {line_no} has a vote that is not an integer") from None
            splits.append(row[0].strip())
            named.append(bool(row[1].strip()))
    raw = np.asarray(counts, dtype=np.float32)
    plurality = raw.argmax(axis=1)  # first maximum: the CSV's column order breaks ties
    n_emotions = len(FERPLUS_TO_EMOTION)
    usable = np.asarray(named) & (plurality < n_emotions)
    order = [EMOTIONS.index(FERPLUS_TO_EMOTION[c]) for c in FERPLUS_COLUMNS[:n_emotions]]
    votes = np.zeros((len(raw), NUM_CLASSES), dtype=np.float32)
    votes[:, order] = raw[:, :n_emotions]
    majority = np.where(usable, np.asarray(order)[np.minimum(plurality, n_emotions - 1)], -1)
    return FerPlusVotes(votes, majority.astype(np.int64), usable, np.asarray(splits))
