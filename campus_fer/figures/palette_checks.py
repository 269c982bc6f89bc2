"""How well colours read: WCAG 2.2 contrast ratios, and distances between colours as people with a
colour-vision deficiency see them (used by tests/test_palette.py and benchmarks/palette.py).

Distance: CIEDE2000 (scikit-image) between the CIELab colours of the two sRGB colours, after
simulating protanopia, deuteranopia or tritanopia with Machado, Oliveira & Fernandes (2009) at full
severity (colorspacious' "sRGB1+CVD" space), clipped to what a screen can show. The simulation needs
the test requirements (colorspacious, scikit-image: requirements-dev.txt); the contrast functions
need nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

#: Vision types checked; the last three are the names colorspacious' Machado 2009 model uses.
VISIONS: tuple[str, ...] = ("normal", "protanomaly", "deuteranomaly", "tritanomaly")
VISION_NAMES: dict[str, str] = {
    "normal": "normal vision",
    "protanomaly": "protanopia",
    "deuteranomaly": "deuteranopia",
    "tritanomaly": "tritanopia",
}


def srgb(color: str) -> np.ndarray:
    """'#rrggbb' -> sRGB in [0, 1] (3 floats)."""
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a #rrggbb colour, got {color!r}")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def relative_luminance(color: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour (0 black .. 1 white)."""
    c = srgb(color)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a: str, b: str = "#ffffff") -> float:
    """WCAG 2.2 contrast ratio of two colours (1 .. 21); text needs 4.5, graphics 3."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def simulated_lab(colors: Sequence[str], vision: str) -> np.ndarray:
    """CIELab (D65) of `colors` as seen with `vision` (VISIONS), n x 3."""
    from colorspacious import cspace_convert  # test requirement only

    rgb = np.array([srgb(c) for c in colors])
    if vision != "normal":
        space = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
        rgb = np.clip(cspace_convert(rgb, space, "sRGB1"), 0.0, 1.0)
    return cspace_convert(rgb, "sRGB1", "CIELab")


def distance_matrix(colors: Sequence[str], vision: str) -> np.ndarray:
    """CIEDE2000 between every two of `colors` as seen with `vision`, n x n."""
    from skimage.color import deltaE_ciede2000  # test requirement only

    lab = simulated_lab(colors, vision)
    return deltaE_ciede2000(lab[:, None, :], lab[None, :, :])


def pair_distances(colors: Mapping[str, str], vision: str) -> dict[tuple[str, str], float]:
    """CIEDE2000 between every pair of named colours as seen with `vision`."""
    names = list(colors)
    matrix = distance_matrix([colors[n] for n in names], vision)
    return {
        (names[i], names[j]): float(matrix[i, j]) for i, j in itertools.combinations(range(len(names)), 2)
    }


def closest_pair(colors: Mapping[str, str], vision: str) -> tuple[tuple[str, str], float]:
    """The two colours that look most alike with `vision`, and their CIEDE2000."""
    distances = pair_distances(colors, vision)
    pair = min(distances, key=distances.__getitem__)
    return pair, distances[pair]
