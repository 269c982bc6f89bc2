"""Model metrics: how well the committed model recognises apparent expressions, and where it fails."""

from __future__ import annotations

import streamlit as st

from fer_core import config
from ui.charts import (
    class_distribution,
    confusion_heatmap,
    per_class_bars,
    reliability_diagram,
    resolution_chart,
    training_curves,
)
from ui.layout import require_entrypoint
from ui.model_report import card_section, load_history, load_model_card, load_report
from ui.settings import load_settings

require_entrypoint()

st.title("Model metrics")
st.caption(
    "Scores of the expression model on FER2013's held-out PrivateTest faces. They describe how often "
    "the model agrees with the dataset's labels of *apparent* expression — not how people feel."
)

report = load_report()
if report is None:
    st.info(
        f"No model metrics found at `{config.METRICS_PATH}`. Train and evaluate the model "
        "(`python -m training.train`, `python -m training.export`, then `python -m training.evaluate`) "
        "to create them."
    )
    st.stop()

test = report.test
cols = st.columns(4)
cols[0].metric("Accuracy (PrivateTest)", f"{test.accuracy:.1%}", help=f"{test.n:,} test faces, single pass")
cols[1].metric(
    "Macro-F1 (PrivateTest)", f"{test.macro_f1:.3f}", help="Mean of the 7 per-expression F1 scores"
)

if test.tta_accuracy is not None:
    cols[2].metric(
        "Accuracy with flip TTA",
        f"{test.tta_accuracy:.1%}",
        delta=f"{test.tta_accuracy - test.accuracy:+.1%}",
        help="Averaging each face's prediction with that of its mirror image (two passes)",
    )
if test.tta_macro_f1 is not None:
    cols[3].metric(
        "Macro-F1 with flip TTA",
        f"{test.tta_macro_f1:.3f}",
        delta=f"{test.tta_macro_f1 - test.macro_f1:+.3f}",
    )

if not report.variants.empty:
    st.markdown("**Other exports the app can serve** (PrivateTest, single pass)")
    st.dataframe(
        report.variants.assign(accuracy=report.variants["accuracy"] * 100),
        hide_index=True,
        column_config={
            "model": "Model (CAMPUS_FER_MODEL, precision)",
            "file": "File in models/",
            "accuracy": st.column_config.NumberColumn("Accuracy", format="%.1f%%"),
            "macro_f1": st.column_config.NumberColumn("Macro-F1", format="%.3f"),
        },
    )
    serving = load_settings().model
    st.caption(
        f"This app serves **{serving}** (`{config.served_model_path(serving).name}`), chosen by "
        "CAMPUS_FER_MODEL. Its int8 export is as accurate as float32 and about twice as fast "
        "(benchmarks/results/vs_fer.txt)."
    )

st.subheader("Where the model errs")
left, right = st.columns([3, 2], gap="large")
with left:
    normalised = st.toggle("Row-normalised (share of each true expression)", value=True)
    matrix = report.confusion_normalised if normalised else report.confusion_counts
    st.plotly_chart(confusion_heatmap(matrix, normalised), width="stretch", key="confusion")
with right:
    st.markdown("**Per expression (PrivateTest)**")
    st.dataframe(
        report.per_class,
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
    st.plotly_chart(per_class_bars(report.per_class), width="stretch", key="per_class")
with right:
    st.plotly_chart(class_distribution(report.class_distribution), width="stretch", key="distribution")

served = report.served
if served is not None:
    st.subheader("Calibration and small faces")
    floor = served["readable_floor"]
    before, after = served["calibration_before"]["ece"], served["calibration_after"]["ece"]
    cols = st.columns(3)
    cols[0].metric(
        "Calibration error (ECE)",
        f"{after:.3f}",
        delta=f"{after - before:+.3f}",
        delta_color="inverse",
        help=f"Expected calibration error over 15 confidence bins on PrivateTest; {before:.3f} before the "
        f"temperature T = {served['temperature']:.2f} fitted on PublicTest.",
    )
    cols[1].metric(
        "Readability floor",
        f"{floor['face_size']} px",
        help=f"Faces whose box is narrower than this (a crop under {floor['crop_side']} px) are read at "
        f"under {floor['min_accuracy']:.0%} accuracy: counted as 'too small to read', left out of shares.",
    )
    cols[2].metric("Served model", served["model"])
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(reliability_diagram(served), width="stretch", key="reliability")
        st.caption(
            "A calibrated model that says 70% is right 70% of the time, so summed probabilities give honest "
            "shares. Temperature scaling changes no prediction, only how sure they are."
        )
    with right:
        st.plotly_chart(resolution_chart(served), width="stretch", key="resolution")
        st.caption(
            "FER2013 test faces shrunk to each size and scaled back, as a small face in a crowd reaches the "
            f"model. Below the floor (crops under {floor['crop_side']} px) accuracy falls under "
            f"{floor['min_accuracy']:.0%}: those faces are counted but left out of every share."
        )

st.subheader("Training")
history = load_history()
if history is not None:
    st.plotly_chart(training_curves(history), width="stretch", key="curves")
elif config.MODELS_DIR.joinpath("curves.png").is_file():
    st.image(str(config.MODELS_DIR / "curves.png"), caption="Training curves", width="stretch")
else:
    st.info(f"No training history at `{config.HISTORY_PATH}`; it is written when the model is trained.")
training = report.training
if training:
    st.caption(
        f"{training.get('epochs_run', '?')} epochs, best epoch {training.get('best_epoch', '?')} "
        f"(validation accuracy {float(training.get('best_val_accuracy', 0)):.1%}), "
        f"{float(training.get('wall_seconds', 0)) / 3600:.2f} h of training on FER2013's Training faces."
    )

st.subheader("Model card")
card = load_model_card()
if card is None:
    st.info(f"No model card at `{config.MODEL_CARD_PATH}`; `python -m training.evaluate` writes it.")
else:
    for heading in ("Observations", "Limits"):
        if section := card_section(card, heading):
            st.markdown(f"**{heading}**\n\n{section}")
    with st.expander("Full model card"):
        st.markdown(card)
