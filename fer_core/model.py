"""The Keras CNN (imported by training only: the app serves the ONNX export)."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from fer_core.labels import INPUT_SIZE, NUM_CLASSES


def _conv_bn_relu(x: keras.KerasTensor, filters: int, name: str, separable: bool) -> keras.KerasTensor:
    conv = layers.SeparableConv2D if separable else layers.Conv2D
    x = conv(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_cnn(
    widths: Sequence[int] = (64, 128, 256, 512),
    convs_per_block: Sequence[int] = (2, 2, 2, 2),
    block_dropout: Sequence[float] = (0.1, 0.2, 0.3, 0.3),
    dense_units: int = 256,
    dense_dropout: float = 0.5,
    separable: bool = False,
) -> keras.Model:
    """VGG-style sequential CNN: blocks of (conv-BN-ReLU)xk, max-pool, dropout; then a dense head.

    Input is (48, 48, 1) in [0, 1]; output is softmax over the 7 classes, kept float32
    under a mixed-precision policy so the probabilities are exact enough to export.
    `separable` makes every convolution after the first depthwise-separable: about a quarter of
    the int8 time of the same widths (benchmarks/results/distill_ferplus.txt), so a wider network
    fits the served time budget. The first stays plain: a one-channel input has nothing to separate.
    """
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = inputs
    for b, (filters, n_convs, drop) in enumerate(zip(widths, convs_per_block, block_dropout), 1):
        for c in range(1, n_convs + 1):
            x = _conv_bn_relu(x, filters, f"b{b}c{c}", separable and (b, c) != (1, 1))
        x = layers.MaxPooling2D(2, name=f"b{b}_pool")(x)
        x = layers.Dropout(drop, name=f"b{b}_drop")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    x = layers.Dropout(dense_dropout, name="fc_drop")(x)
    x = layers.Dense(NUM_CLASSES, name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fer_cnn")
