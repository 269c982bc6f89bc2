"""FER2013 loaders: both layouts, malformed input named by row/file, the seeded split."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.data import (
    MalformedDataError,
    load_fer2013,
    load_fer2013_csv,
    load_image_folders,
    stratified_split,
)
from fer_core.labels import EMOTIONS

HEADER = "emotion,pixels,Usage\n"


def _row(label: int, pixels: np.ndarray, usage: str) -> str:
    return f"{label},{' '.join(map(str, pixels.ravel()))},{usage}\n"


def _faces(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)


@pytest.fixture
def small_csv_rows() -> tuple[list[str], np.ndarray]:
    faces = _faces(6)
    usages = ["Training", "Training", "Training", "PublicTest", "PrivateTest", "PrivateTest"]
    return [_row(i, face, usage) for i, (face, usage) in enumerate(zip(faces, usages))], faces


@pytest.mark.parametrize("compressed", [False, True])
def test_csv_loader_reads_pixels_labels_and_splits(tmp_path: Path, small_csv_rows, compressed: bool) -> None:
    rows, faces = small_csv_rows
    path = tmp_path / ("fer.csv.gz" if compressed else "fer.csv")
    text = HEADER + "".join(rows)
    path.write_bytes(gzip.compress(text.encode()) if compressed else text.encode())
    data = load_fer2013(path)
    assert data.images.dtype == np.uint8 and data.images.shape == (6, 48, 48)
    np.testing.assert_array_equal(data.images, faces)
    assert data.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert len(data.subset("PrivateTest")) == 2
    with pytest.raises(KeyError, match="no rows"):
        data.subset("Validation")


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("7," + " ".join(["0"] * 2304) + ",Training\n", "row 3: emotion 7 is outside"),
        ("x," + " ".join(["0"] * 2304) + ",Training\n", "row 3: emotion 'x' is not an integer"),
        ("1," + " ".join(["0"] * 2000) + ",Training\n", "row 3: expected 2304 pixels, found 2000"),
        ("1," + " ".join(["300"] * 2304) + ",Training\n", "row 3: pixel values must lie in 0..255"),
        ("1," + " ".join(["a"] * 2304) + ",Training\n", "row 3: pixels contain a non-integer"),
        ("1," + " ".join(["0"] * 2304) + "\n", "row 3: expected 3 fields, found 2"),
        ("1," + " ".join(["0"] * 2304) + ",\n", "row 3: empty Usage"),
    ],
)
def test_csv_loader_names_the_malformed_row(
    tmp_path: Path, small_csv_rows, bad_row: str, message: str
) -> None:
    rows, _ = small_csv_rows
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + rows[0] + bad_row + rows[1])
    with pytest.raises(MalformedDataError, match=message):
        load_fer2013_csv(path)


def test_csv_loader_rejects_wrong_header_empty_file_and_non_gzip(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("label,pixels\n1,2\n")
    with pytest.raises(MalformedDataError, match="line 1 must be the header"):
        load_fer2013_csv(wrong)
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER)
    with pytest.raises(MalformedDataError, match="no data rows"):
        load_fer2013_csv(empty)
    fake_gz = tmp_path / "fake.csv.gz"
    fake_gz.write_text(HEADER)
    with pytest.raises(MalformedDataError, match="unreadable"):
        load_fer2013_csv(fake_gz)
    with pytest.raises(FileNotFoundError):
        load_fer2013(tmp_path / "missing.csv")


def test_image_folder_loader_converts_any_size_and_mode(tmp_path: Path) -> None:
    faces = _faces(3, seed=1)
    (tmp_path / "train" / "happy").mkdir(parents=True)
    (tmp_path / "train" / "Sad").mkdir(parents=True)
    (tmp_path / "test" / "neutral").mkdir(parents=True)
    Image.fromarray(faces[0]).save(tmp_path / "train" / "happy" / "a.png")
    Image.fromarray(np.repeat(faces[1][:, :, None], 3, 2)).resize((96, 96)).save(
        tmp_path / "train" / "Sad" / "b.jpg"
    )
    Image.fromarray(faces[2]).save(tmp_path / "test" / "neutral" / "c.png")
    (tmp_path / "test" / "neutral" / "notes.txt").write_text("ignored: not an image suffix")
    data = load_image_folders(tmp_path)
    assert data.images.shape == (3, 48, 48) and data.images.dtype == np.uint8
    assert [EMOTIONS[i] for i in data.labels] == ["neutral", "sad", "happy"]  # sorted folder order
    assert sorted(data.splits.tolist()) == ["test", "train", "train"]
    # 48x48 grayscale PNGs pass through pixel-exact.
    np.testing.assert_array_equal(data.subset("test").images[0], faces[2])


def test_image_folder_loader_names_unknown_classes_and_corrupt_files(tmp_path: Path) -> None:
    (tmp_path / "train" / "bored").mkdir(parents=True)
    Image.fromarray(_faces(1)[0]).save(tmp_path / "train" / "bored" / "a.png")
    with pytest.raises(MalformedDataError, match="'bored' is not one of"):
        load_image_folders(tmp_path)
    other = tmp_path / "other"
    (other / "train" / "fear").mkdir(parents=True)
    (other / "train" / "fear" / "broken.jpg").write_bytes(b"not really a jpeg")
    with pytest.raises(MalformedDataError, match="broken.jpg"):
        load_image_folders(other)
    with pytest.raises(MalformedDataError, match="no images"):
        load_image_folders(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    return empty


def test_stratified_split_is_seeded_and_keeps_class_shares() -> None:
    labels = np.repeat(np.arange(7), [400, 50, 400, 700, 480, 310, 490])
    train_a, val_a = stratified_split(labels, 0.2, seed=3)
    train_b, val_b = stratified_split(labels, 0.2, seed=3)
    np.testing.assert_array_equal(val_a, val_b)
    assert len(np.intersect1d(train_a, val_a)) == 0 and len(train_a) + len(val_a) == len(labels)
    shares = np.bincount(labels[val_a], minlength=7) / np.bincount(labels, minlength=7)
    assert np.allclose(shares, 0.2, atol=0.02)


@pytest.mark.dataset
def test_full_fer2013_matches_its_readme(fer2013) -> None:
    assert len(fer2013) == 35887
    expected = {
        "Training": [3995, 436, 4097, 7215, 4830, 3171, 4965],
        "PublicTest": [467, 56, 496, 895, 653, 415, 607],
        "PrivateTest": [491, 55, 528, 879, 594, 416, 626],
    }
    for split, counts in expected.items():
        assert np.bincount(fer2013.subset(split).labels, minlength=7).tolist() == counts
