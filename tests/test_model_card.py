"""training.model_card: the card is written from metrics.json's figures (both models, both label sets)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from campus_fer.model_report import card_section
from fer_core.config import METRICS_PATH
from training.model_card import top_confusions, write_model_card


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(METRICS_PATH.read_text())


def card(results: dict, tmp_path: Path) -> str:
    path = tmp_path / "MODEL_CARD.md"
    write_model_card(results, path)
    return path.read_text()


def test_card_covers_every_model_against_both_label_sets(results: dict, tmp_path: Path) -> None:
    text = card(results, tmp_path)
    for heading in (
        "What they are",
        "Two label sets",
        "Which model, and why",
        "Observations",
        "Calibration",
        "Small faces and the readability floor",
        "Training",
        "Limits",
    ):
        assert card_section(text, heading), heading
    agreement = results["label_agreement"]["fer2013_vs_ferplus_majority_privatetest"]
    assert f"agree on {agreement:.1%} of PrivateTest faces" in text
    for name, model in results["models"].items():
        assert f"`models/{model['file']}`" in text
        for label_set, truth in (("ferplus", "FER+ majority"), ("fer2013", "FER2013 label")):
            m = model["splits"]["PrivateTest"][label_set]
            row = (
                f"| {name} (`{model['id']}`) | {truth} | PrivateTest | {m['n']:,} | **{m['accuracy']:.1%}** |"
            )
            assert row in text
            assert f"{m['negative_share_bias'] * 100:+.1f} points" in text
        assert f"**{model['calibration_after']['ece']:.3f}** after" in text
        assert f"detector boxes of {model['readable_floor']['face_size']} px" in text
    served = results["models"][results["default"]]
    assert f"Served model `{served['id']}` against the FER+ majority" in text


def test_card_numbers_come_from_the_results(results: dict, tmp_path: Path) -> None:
    changed = copy.deepcopy(results)
    fer = changed["models"]["fer2013"]["splits"]["PrivateTest"]["ferplus"]
    fer["neutral_read_sad_or_angry"], fer["negative_share_bias"] = 0.987, 0.321
    changed["label_agreement"]["fer2013_vs_ferplus_majority_privatetest"] = 0.4321
    trade_off = card_section(card(changed, tmp_path), "Which model, and why")
    assert "only 43% of the faces" in trade_off
    assert "reads 99% of the faces the raters call neutral as sad or angry" in trade_off
    assert "+32.1 points" in trade_off
    assert "+32.1 points" not in card_section(card(results, tmp_path), "Which model, and why")


def test_top_confusions_skip_the_diagonal() -> None:
    matrix = [[0.0] * 7 for _ in range(7)]
    matrix[6][6], matrix[6][4], matrix[2][5], matrix[4][6] = 0.9, 0.3, 0.2, 0.1
    assert top_confusions(matrix, k=3) == [
        ("neutral", "sad", 0.3),
        ("fear", "surprise", 0.2),
        ("sad", "neutral", 0.1),
    ]
