"""A markdown model card written from the evaluation figures (metrics.json), so the numbers never drift.

One card covers every servable model: what each is, its scores against both label sets (FER2013's
single labels and the FER+ raters' majority), the negative-affect lean each would put in every
chart, calibration, small faces and training. Every figure is read from `results`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_core.labels import EMOTIONS, NEGATIVE_AFFECT, READABLE_MIN_FACE_PX

SPLITS: tuple[str, ...] = ("PrivateTest", "PublicTest")
LABEL_SETS: tuple[str, ...] = ("ferplus", "fer2013")
TRUTH: dict[str, str] = {"ferplus": "FER+ majority", "fer2013": "FER2013 label"}
NEGATIVE = f"{', '.join(NEGATIVE_AFFECT[:-1])} or {NEGATIVE_AFFECT[-1]}"

#: What each servable model is, in a sentence (the figures come from metrics.json).
DESCRIPTIONS: dict[str, str] = {
    "consensus": (
        "A VGG-style CNN (convolution, batch normalisation, ReLU, max-pooling, dropout, dense head): "
        "model v2's weights fine-tuned on the FER+ vote distributions (10 raters per FER2013 face; the "
        "loss is the cross-entropy against each face's share of votes) with photo-like augmentation "
        "(gamma, blur, JPEG artefacts, larger erasing, faces shrunk and scaled back). A class-prior "
        "correction and a temperature are built into the graph (`training.calibrate`)."
    ),
    "fer2013": (
        "The same VGG-style CNN trained from scratch on FER2013's `Training` rows with their single "
        "labels, then fine-tuned for small faces; a temperature is built into the graph. Kept servable "
        "for comparison and for databases it has read (setting `fer2013`, formerly `accurate`)."
    ),
}


def top_confusions(normalised: list[list[float]], k: int = 4) -> list[tuple[str, str, float]]:
    """The k largest off-diagonal shares of a row-normalised confusion matrix: (true, read as, share)."""
    matrix = np.array(normalised, dtype=float)
    np.fill_diagonal(matrix, 0.0)
    order = np.dstack(np.unravel_index(np.argsort(-matrix, axis=None), matrix.shape))[0][:k]
    return [(EMOTIONS[i], EMOTIONS[j], float(matrix[i, j])) for i, j in order]


def _points(share: float) -> str:
    return f"{share * 100:+.1f} points"


def _scores_table(models: dict) -> str:
    """One row per model x label set x split."""
    lines = [
        "| model | scored against | split | faces | accuracy | macro-F1 | negative share read "
        "| labelled | lean | labelled-neutral faces read sad or angry |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, model in models.items():
        for label_set in LABEL_SETS:
            for split in SPLITS:
                m = model["splits"][split][label_set]
                strong = "**" if split == "PrivateTest" else ""
                lines.append(
                    f"| {name} (`{model['id']}`) | {TRUTH[label_set]} | {split} | {m['n']:,} "
                    f"| {strong}{m['accuracy']:.1%}{strong} | {m['macro_f1']:.3f} "
                    f"| {m['negative_share_predicted']:.1%} | {m['negative_share_labelled']:.1%} "
                    f"| {_points(m['negative_share_bias'])} | {m['neutral_read_sad_or_angry']:.1%} |"
                )
    return "\n".join(lines)


def _float32_table(models: dict) -> str:
    """The served int8 exports next to their float32 originals (PrivateTest)."""
    lines = []
    for name, model in models.items():
        original = model.get("float32")
        if not original:
            continue
        for label_set in LABEL_SETS:
            served = model["splits"]["PrivateTest"][label_set]
            full = original["PrivateTest"][label_set]
            lines.append(
                f"| {name} | {TRUTH[label_set]} | {served['accuracy']:.1%} / {served['macro_f1']:.3f} "
                f"| {full['accuracy']:.1%} / {full['macro_f1']:.3f} |"
            )
    if not lines:
        return ""
    header = (
        "Quantisation: the served int8 export against its float32 original (PrivateTest, accuracy / "
        "macro-F1):\n\n| model | scored against | int8 (served) | float32 |\n|---|---|---:|---:|\n"
    )
    return header + "\n".join(lines) + "\n"


def _per_class_table(model: dict, distribution: dict[str, int]) -> str:
    m = model["splits"]["PrivateTest"]["ferplus"]
    total = sum(distribution.values()) or 1
    rows = [
        "| expression | precision | recall | F1 | test faces | share of training faces (FER+ majority) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in EMOTIONS:
        c = m["per_class"][name]
        rows.append(
            f"| {name} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1-score']:.3f} "
            f"| {int(c['support'])} | {distribution.get(name, 0) / total:.1%} |"
        )
    return "\n".join(rows)


def _confusions(name: str, model: dict) -> str:
    m = model["splits"]["PrivateTest"]["ferplus"]
    items = "\n".join(
        f"    - FER+ **{a}** read as **{b}**: {share:.1%} of {a} faces"
        for a, b, share in top_confusions(m["confusion_normalised"])
    )
    return f"  - {name} (`{model['id']}`):\n{items}"


def _calibration(name: str, model: dict) -> str:
    before, after = model["calibration_before"], model["calibration_after"]
    offsets = {k: v for k, v in model.get("class_bias", {}).items() if v}
    prior = (
        "class-prior offsets added to the logits: "
        + ", ".join(f"{k} {v:+.2f}" for k, v in offsets.items())
        + " (the others 0)"
        if offsets
        else "no class-prior correction"
    )
    return (
        f"- **{name}** (`{model['id']}`): temperature T = {model['temperature']:.3f}; {prior}. "
        f"Expected calibration error against the {TRUTH[model['trained_on']]} (PrivateTest, "
        f"{after['bins']} bins): {before['ece']:.3f} before, **{after['ece']:.3f}** after."
    )


def _resolution(name: str, model: dict) -> str:
    curve = model["resolution"]
    floor = model["readable_floor"]
    truth = TRUTH[model["trained_on"]]
    relative = f" ({floor['relative']:.0%} of its full-size agreement)" if "relative" in floor else ""
    cells = " | ".join(f"{row['side']} px" for row in curve)
    agreement = " | ".join(f"{row['accuracy']:.1%}" for row in curve)
    negative = " | ".join(f"{row['predicted_negative_share']:.0%}" for row in curve)
    return (
        f"**{name}** (`{model['id']}`), against the {truth}:\n\n"
        f"| crop side | {cells} |\n|---|{'---:|' * len(curve)}\n"
        f"| agreement with the {truth} | {agreement} |\n"
        f"| negative share read (labelled {curve[0]['true_negative_share']:.0%}) | {negative} |\n\n"
        f"Readability floor: agreement stays at or above {floor['min_accuracy']:.1%}{relative} down to "
        f"crops of {floor['crop_side']} px, i.e. detector boxes of {floor['face_size']} px.\n"
    )


def _training(name: str, model: dict) -> str:
    train = model.get("training") or {}
    if not train:
        return f"- **{name}**: no training history recorded."
    epochs = f"{train['epochs_run']} epoch{'s' if train['epochs_run'] != 1 else ''}"
    return (
        f"- **{name}** (`{model['id']}`): {epochs}, "
        f"{train.get('wall_seconds', 0.0) / 3600:.2f} h on a 2-core CPU; best validation (PublicTest) "
        f"accuracy against the {TRUTH[model['trained_on']]} {train['best_val_accuracy']:.1%} at epoch "
        f"{train['best_epoch']} (last epoch {train['final_val_accuracy']:.1%})."
    )


def _trade_off(results: dict) -> str:
    """The plain-words paragraph: why the consensus model is served although it scores lower on FER2013."""
    models = results["models"]
    agreement = results["label_agreement"]["fer2013_vs_ferplus_majority_privatetest"]
    fer, con = models.get("fer2013"), models.get("consensus")
    text = (
        f"FER2013 gives each face one label, from one annotator; FER+ had ten people label the same faces "
        f"again. On PrivateTest the FER2013 label agrees with the FER+ majority on only {agreement:.0%} of "
        "the faces, and where they differ FER2013 leans negative: many faces ten raters call neutral carry "
        "a sad or angry label."
    )
    some = next(iter(models.values()))["splits"]["PrivateTest"]
    text += (
        f" FER2013's labels call {some['fer2013']['negative_share_labelled']:.0%} of PrivateTest faces "
        f"{NEGATIVE}; the raters' majority calls "
        f"{some['ferplus']['negative_share_labelled']:.0%} so."
    )
    if fer:
        f = fer["splits"]["PrivateTest"]["ferplus"]
        text += (
            f" A model fitted to those labels learns the lean: model {fer['id']} reads "
            f"{f['neutral_read_sad_or_angry']:.0%} of the faces the raters call neutral as sad or angry, "
            f"and its share of negative expressions is {f['negative_share_predicted']:.0%} where the raters' "
            f"is {f['negative_share_labelled']:.0%} ({_points(f['negative_share_bias'])}); every chart and "
            "wellbeing figure would carry that lean."
        )
    if con:
        c, c13 = con["splits"]["PrivateTest"]["ferplus"], con["splits"]["PrivateTest"]["fer2013"]
        text += (
            f" The consensus model {con['id']} reads faces as the raters' majority does: it agrees with "
            f"it on {c['accuracy']:.0%} of PrivateTest and its negative share is "
            f"{c['negative_share_predicted']:.0%} "
            f"({_points(c['negative_share_bias'])})."
        )
        if fer:
            f13 = fer["splits"]["PrivateTest"]["fer2013"]
            text += (
                f" Its accuracy against FER2013's labels is lower ({c13['accuracy']:.0%} against "
                f"{f13['accuracy']:.0%} for {fer['id']}) because those labels disagree with the raters: "
                "it is marked wrong exactly where it sides with the ten raters against the one annotator."
            )
    return text


def write_model_card(results: dict, path: Path) -> None:
    """Write MODEL_CARD.md for every model in `results` (training.evaluate's metrics.json layout)."""
    models: dict = results["models"]
    default = results["default"] if results["default"] in models else next(iter(models))
    served = models[default]
    distribution = results.get("class_distribution", {}).get("ferplus", {})
    agreement = results["label_agreement"]["fer2013_vs_ferplus_majority_privatetest"]
    ranked = sorted(
        EMOTIONS, key=lambda e: served["splits"]["PrivateTest"]["ferplus"]["per_class"][e]["f1-score"]
    )
    described = "\n".join(
        f"- **{name}** (model id `{m['id']}`, `models/{m['file']}`, fitted to the {TRUTH[m['trained_on']]}"
        f"{'; served by default' if name == default else ''}): {DESCRIPTIONS.get(name, '')}"
        for name, m in models.items()
    )
    float32 = _float32_table(models)
    total = sum(distribution.values()) or 1
    rare = ", ".join(
        f"{e} {distribution.get(e, 0) / total:.1%} of training faces"
        for e in sorted(EMOTIONS, key=lambda e: distribution.get(e, 0))[:2]
    )
    curves = f"\n![training curves of {served['id']}](curves.png)\n" if served.get("training") else ""
    text = f"""# Model card: Campus FER expression models

*Generated by `python -m training.evaluate` from `metrics.json`; do not edit by hand.*

## What they are
Each model reads a 48x48 grayscale face scaled to [0, 1] and returns probabilities of seven
*apparent* expressions ({", ".join(EMOTIONS)}). The app serves one of them, chosen by the
`CAMPUS_FER_MODEL` setting; each is served as an int8-quantised ONNX export (float32 original beside it).

{described}

Model selection used `PublicTest`; `PrivateTest` is the untouched test set.

## Two label sets
Every model is scored against FER2013's single label for each face and against the FER+ majority
(the plurality of ten raters' votes; faces whose plurality is contempt, unknown or not-a-face are left
out). The two agree on {agreement:.1%} of PrivateTest faces, so a score is only meaningful next to
the labels it was measured against. The negative share is the share of faces read as
{NEGATIVE}; the lean is that share minus the labelled one.

{_scores_table(models)}

{float32}
## Which model, and why
{_trade_off(results)}

## Observations
Served model `{served["id"]}` against the FER+ majority, PrivateTest:

{_per_class_table(served, distribution)}

- Strongest: {ranked[-1]}, {ranked[-2]}; weakest: {ranked[0]}, {ranked[1]} (F1 in the table). The
  rarest expressions in the raters' majority ({rare}) have the fewest faces to learn from and to
  be tested on, so their figures are the least certain.
- Most frequent confusions against the FER+ majority (row-normalised), per model:
{chr(10).join(_confusions(name, m) for name, m in models.items())}

![confusion matrices](confusion_matrix.png)

## Calibration
Stored probabilities are summed into shares, so they should mean what they say. Each model's
corrections are fitted on PublicTest and built into its graph; the temperature changes no
prediction.

{chr(10).join(_calibration(name, m) for name, m in models.items())}

## Small faces and the readability floor
PrivateTest faces shrunk to each crop side and scaled back to 48 px, as the app upscales a small face.
The app applies one floor to every model: faces whose box is under {READABLE_MIN_FACE_PX} px are
counted as detected but "too small to read" and left out of every expression share.

{chr(10).join(_resolution(name, m) for name, m in models.items())}
![calibration and resolution of the served model](calibration_resolution.png)

## Training
{chr(10).join(_training(name, m) for name, m in models.items())}
{curves}

## Limits
FER2013 faces were collected from web image searches: mostly frontal, posed or exaggerated,
unevenly spread across age, gender and skin tone. The models report how a face *appears* to
annotators, not what a person feels; they are not a diagnosis and must not be used to judge
individuals.
"""
    path.write_text(text)
