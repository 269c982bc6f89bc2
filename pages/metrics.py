"""Model metrics: how the servable models read apparent expressions, against two sets of labels."""

from __future__ import annotations

import re

import streamlit as st

from campus_fer.figures.model_metrics import (
    class_distribution,
    confusion_heatmap,
    per_class_bars,
    reliability_diagram,
    resolution_chart,
    training_curves,
)
from campus_fer.figures.summaries import (
    describe_confusion,
    describe_counts,
    describe_history,
    describe_reliability,
    describe_resolution,
    describe_scores,
)
from campus_fer.model_report import (
    HISTORIES,
    LABEL_SETS,
    card_section,
    load_history,
    load_model_card,
    load_report,
)
from fer_core import config
from fer_core.labels import NEGATIVE_AFFECT, READABLE_MIN_FACE_PX
from ui.charts import show_chart
from ui.layout import require_entrypoint
from ui.settings import load_settings

require_entrypoint()

TRUTH = {"ferplus": "FER+ majority", "fer2013": "FER2013 label"}
NEGATIVE = f"{', '.join(NEGATIVE_AFFECT[:-1])} or {NEGATIVE_AFFECT[-1]}"

st.title("Model metrics", anchor=False)
st.caption(
    "How the expression models score on FER2013's held-out PrivateTest faces. The scores describe "
    "how often a model agrees with people's labels of *apparent* expression, not how anyone feels."
)

report = load_report()
if report is None:
    st.info(
        f"No model metrics found at `{config.METRICS_PATH}`. Train and export a model "
        "(`python -m training.train`, `python -m training.export`), then run "
        "`python -m training.evaluate` to create them."
    )
    st.stop()

agreement = f" (they agree on {report.label_agreement:.0%} of test faces)" if report.label_agreement else ""
st.markdown(
    "**Why two label sets?** Each test face has FER2013's original label, given by one person, and the "
    f"majority view of ten raters from FER+{agreement}: a score only means something next to the labels "
    "it was measured against, and the ten raters' majority is the closer match to how people see a face."
)

serving = load_settings().model
model = report.models.get(serving)
others = [m for name, m in report.models.items() if name != serving]
served_file = config.served_model_path(serving).name
st.subheader("The model this app serves", anchor=False)
if model is None:
    st.warning(
        f"This app serves **{serving}** (`{served_file}`), but `{config.METRICS_PATH.name}` has no figures "
        "for it; run `python -m training.evaluate`."
    )
else:
    ferplus, fer2013 = model.scores["ferplus"], model.scores["fer2013"]
    cols = st.columns(4)
    cols[0].metric(
        "Agreement with the raters",
        f"{ferplus.accuracy:.1%}",
        help=f"Share of {ferplus.n:,} PrivateTest faces read as the FER+ majority of ten raters reads them",
    )
    cols[1].metric(
        "Macro-F1 (raters)", f"{ferplus.macro_f1:.3f}", help="Mean of the 7 per-expression F1 scores"
    )
    cols[2].metric(
        "Accuracy (FER2013 labels)",
        f"{fer2013.accuracy:.1%}",
        help=f"Share of {fer2013.n:,} PrivateTest faces read as FER2013's single label says",
    )
    cols[3].metric(
        "Negative-share bias",
        f"{ferplus.negative_share_bias * 100:+.1f} pts",
        help=f"Share of faces read as {NEGATIVE} ({ferplus.negative_share_predicted:.1%}) "
        f"minus the raters' share ({ferplus.negative_share_labelled:.1%}): how much gloomier (or brighter) "
        "every chart of this app would look than people would judge.",
    )
others_text = "; ".join(f"**{m.name}** (model {m.id}, `{m.file}`)" for m in others)
st.caption(
    f"This app serves **{serving}**"
    + (f" (model {model.id}, `{model.file}`)" if model else f" (`{served_file}`)")
    + ", chosen by the CAMPUS_FER_MODEL setting."
    + (f" The other servable model: {others_text}." if others else "")
)

st.subheader("Every model against both label sets", anchor=False)
table = report.scores_table()
st.dataframe(
    table.assign(negative_bias=table["negative_bias"] * 100),
    hide_index=True,
    width="stretch",
    column_config={
        "model": "Model (setting, id)",
        "labels": "Scored against",
        "accuracy": st.column_config.NumberColumn("Accuracy", format="percent"),
        "macro_f1": st.column_config.NumberColumn("Macro-F1", format="%.3f"),
        "negative_read": st.column_config.NumberColumn("Negative share read", format="percent"),
        "negative_labelled": st.column_config.NumberColumn("Negative share labelled", format="percent"),
        "negative_bias": st.column_config.NumberColumn("Bias (read − labelled)", format="%+.1f pts"),
        "neutral_sad_angry": st.column_config.NumberColumn(
            "Labelled-neutral faces read sad/angry", format="percent"
        ),
        "faces": st.column_config.NumberColumn("Test faces", format="%d"),
    },
)
st.caption(
    f"Negative share: faces read (or labelled) {NEGATIVE}. A model fitted to FER2013's "
    "labels learns their lean towards negative expressions and reads many serious, neutral faces as sad "
    "or angry; the bias against the raters is what every chart and wellbeing figure would carry. "
    "Details and the trade-off are in the model card below."
)

st.subheader("Where a model errs", anchor=False)
names = list(report.models)
pick = st.columns([2, 2, 3])
chosen = pick[0].selectbox(
    "Model",
    names,
    index=names.index(serving) if serving in names else 0,
    format_func=lambda n: f"{n} ({report.models[n].id})",
    key="confusion_model",
)
label_set = pick[1].radio(
    "Scored against", list(LABEL_SETS), format_func=LABEL_SETS.get, horizontal=True, key="confusion_labels"
)
normalised = pick[2].toggle("Row-normalised (share of each labelled expression)", value=True)
scores = report.models[chosen].scores[label_set]
left, right = st.columns([3, 2], gap="large")
with left:
    matrix = scores.confusion_normalised if normalised else scores.confusion_counts
    title = f"{chosen} vs {TRUTH[label_set]} (PrivateTest)"
    show_chart(confusion_heatmap(matrix, normalised, title), describe_confusion(matrix), key="confusion")
with right:
    st.markdown(f"**Per expression: {chosen} vs {TRUTH[label_set]}**")
    st.dataframe(
        scores.per_class,
        hide_index=True,
        width="stretch",
        column_config={
            "expression": "Expression",
            "precision": st.column_config.NumberColumn("Precision", format="%.3f"),
            "recall": st.column_config.NumberColumn("Recall", format="%.3f"),
            "f1": st.column_config.NumberColumn("F1", format="%.3f"),
            "support": st.column_config.NumberColumn("Test faces", format="%d"),
        },
    )
    st.caption(
        "Precision: how often a predicted expression is right. Recall: how many faces of it are found."
    )

left, right = st.columns(2, gap="large")
with left:
    show_chart(per_class_bars(scores.per_class), describe_scores(scores.per_class), key="per_class")
with right:
    counts = report.class_distribution.get(label_set)
    if counts:
        show_chart(class_distribution(counts), describe_counts(counts, "Training faces"), key="distribution")
        st.caption(f"Training faces per expression by the {TRUTH[label_set]}.")

served = model.served if model else None
st.subheader("Calibration and small faces", anchor=False)
if served is None:
    st.info(f"No calibration or small-face figures for **{serving}** in `{config.METRICS_PATH.name}`.")
else:
    floor = served["readable_floor"]
    truth = TRUTH[model.trained_on]
    before, after = served["calibration_before"]["ece"], served["calibration_after"]["ece"]
    cols = st.columns(3)
    cols[0].metric(
        "Calibration error (ECE)",
        f"{after:.3f}",
        delta=f"{after - before:+.3f}",
        delta_color="inverse",
        help=f"Expected calibration error over {served['calibration_after']['bins']} confidence bins on "
        f"PrivateTest against the {truth}; {before:.3f} before the corrections built into the model "
        f"(temperature T = {served['temperature']:.2f}, fitted on PublicTest).",
    )
    cols[1].metric(
        "Readability floor",
        f"{floor['face_size']} px",
        help=f"Down to faces whose box is {floor['face_size']} px (a {floor['crop_side']} px crop) this "
        f"model agrees with the {truth} at least {floor['min_accuracy']:.1%} of the time"
        + (f", {floor['relative']:.0%} of its agreement on full-size faces." if "relative" in floor else "."),
    )
    cols[2].metric("Served model", model.id, help=f"`{model.file}`, setting {serving}")
    left, right = st.columns(2, gap="large")
    with left:
        show_chart(reliability_diagram(served), describe_reliability(served), key="reliability")
        st.caption(
            "A calibrated model that says 70% is right 70% of the time, so summed probabilities give honest "
            "shares. The temperature changes no prediction, only how sure they are."
        )
    with right:
        show_chart(resolution_chart(served, truth), describe_resolution(served, truth), key="resolution")
        floors = ", ".join(
            f"{m.name} {m.served['readable_floor']['face_size']} px"
            for m in report.models.values()
            if m.served
        )
        st.caption(
            "Test faces shrunk to each size and scaled back, as a small face in a crowd reaches the model. "
            f"The app applies one floor to every model: faces under {READABLE_MIN_FACE_PX} px are counted "
            f"as 'too small to read' and left out of every share (each model's own floor: {floors})."
        )

st.subheader("Training", anchor=False)
history = load_history(HISTORIES.get(serving, (config.HISTORY_PATH,)))
if history is not None:
    show_chart(training_curves(history), describe_history(history), key="curves")
elif config.MODELS_DIR.joinpath("curves.png").is_file():
    st.image(
        str(config.MODELS_DIR / "curves.png"),
        caption="Training curves",
        width="stretch",
        alt="Training and validation accuracy and loss per epoch",
    )
else:
    st.info(
        f"No training history for **{serving}** in `{config.MODELS_DIR}`; it is written when it is trained."
    )
for m in report.models.values():
    if t := m.training:
        epochs = f"{t.get('epochs_run', '?')} epoch{'' if t.get('epochs_run') == 1 else 's'}"
        st.caption(
            f"**{m.name}** ({m.id}): {epochs}, "
            f"{float(t.get('wall_seconds', 0)) / 3600:.2f} h; best epoch {t.get('best_epoch', '?')} "
            f"(validation agreement with the {TRUTH.get(m.trained_on, m.trained_on)} "
            f"{float(t.get('best_val_accuracy', 0)):.1%})."
        )

st.subheader("Model card", anchor=False)
card = load_model_card()
if card is None:
    st.info(f"No model card at `{config.MODEL_CARD_PATH}`; `python -m training.evaluate` writes it.")
else:
    for heading in ("Which model, and why", "Limits"):
        if section := card_section(card, heading):
            st.markdown(f"**{heading}**\n\n{section}")
    with st.expander("Full model card"):
        # The card's figures link PNGs beside it in models/; the page draws its own charts instead.
        st.markdown(re.sub(r"^!\[[^\]]*\]\([^)]*\)\s*$", "", card, flags=re.M))
