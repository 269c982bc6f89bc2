"""The expression palette's figures, and the search that chose it (issue 17).

    python -m benchmarks.palette [--search]

For the earlier palette (Tableau 10) and fer_core.labels.EMOTION_COLORS: each colour's WCAG contrast
ratio on the white chart background, and the closest pair under normal vision and simulated
protanopia, deuteranopia and tritanopia (CIEDE2000 after Machado 2009 at full severity:
campus_fer.figures.palette_checks, the functions tests/test_palette.py uses).

--search re-runs the choice: each expression keeps an Okabe-Ito hue (angry vermillion, disgust the
earlier brown, fear reddish purple, happy bluish green, sad blue or sky blue, surprise orange or
yellow, neutral grey), darkened in linear light to one of a few contrast levels >= 3.05:1; of all
palettes whose every pair is >= 12 CIEDE2000 apart under each simulation and >= 20 in normal vision,
the one with the lightest colours (smallest sum of log contrast ratios) wins.
"""

from __future__ import annotations

import argparse

import numpy as np

from campus_fer.figures.palette_checks import (
    VISION_NAMES,
    VISIONS,
    closest_pair,
    contrast_ratio,
    distance_matrix,
    relative_luminance,
    srgb,
)
from fer_core.labels import EMOTION_COLORS, EMOTIONS

EARLIER = dict(zip(EMOTIONS, ("#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4", "#ff7f0e", "#7f7f7f")))
OKABE_ITO = {
    "orange": "#e69f00",
    "sky blue": "#56b4e9",
    "bluish green": "#009e73",
    "yellow": "#f0e442",
    "blue": "#0072b2",
    "vermillion": "#d55e00",
    "reddish purple": "#cc79a7",
}
FAMILIES = {
    "angry": ["vermillion"],
    "disgust": ["vermillion", "orange", "yellow", "#8c564b"],
    "fear": ["reddish purple"],
    "happy": ["bluish green"],
    "sad": ["blue", "sky blue"],
    "surprise": ["orange", "yellow"],
    "neutral": ["#ffffff"],  # grey: white darkened
}
LEVELS = (3.05, 3.3, 3.6, 4.0, 4.5, 5.0, 5.5, 6.0, 7.0, 8.0, 9.0, 10.5, 12.0, 14.0)
NORMAL_MIN, CVD_MIN = 20.0, 12.0


def darkened(color: str, contrast: float) -> str | None:
    """`color` scaled towards black in linear light (same chromaticity) to `contrast` on white."""
    linear_now = relative_luminance(color)
    target = 1.05 / contrast - 0.05
    if target >= linear_now:
        return None
    c = srgb(color)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4) * target / linear_now
    encoded = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in np.clip(encoded, 0, 1))


def describe(name: str, palette: dict[str, str]) -> None:
    print(f"\n{name}")
    print("| expression | colour | contrast on white |\n|---|---|---:|")
    for expression, color in palette.items():
        print(f"| {expression} | {color} | {contrast_ratio(color):.2f}:1 |")
    print("| vision | closest pair | CIEDE2000 |\n|---|---|---:|")
    for vision in VISIONS:
        pair, distance = closest_pair(palette, vision)
        print(f"| {VISION_NAMES[vision]} | {pair[0]} / {pair[1]} | {distance:.1f} |")


def search() -> dict[str, str]:
    candidates: dict[str, list[str]] = {}
    for expression, families in FAMILIES.items():
        colors = set()
        for family in families:
            base = OKABE_ITO.get(family, family)
            colors |= {c for c in (darkened(base, t) for t in LEVELS) if c}
            if contrast_ratio(base) >= LEVELS[0]:
                colors.add(base)
        candidates[expression] = sorted(colors, key=contrast_ratio)
    pool = sorted({c for cs in candidates.values() for c in cs})
    index = {c: i for i, c in enumerate(pool)}
    matrices = {v: distance_matrix(pool, v) for v in VISIONS}
    ok = (matrices["normal"] >= NORMAL_MIN) & np.all([matrices[v] >= CVD_MIN for v in VISIONS[1:]], axis=0)
    cost = np.log([contrast_ratio(c) for c in pool])
    best: tuple[float, tuple[int, ...]] = (np.inf, ())
    names = list(FAMILIES)

    def extend(chosen: list[int]) -> None:
        nonlocal best
        if len(chosen) == len(names):
            total = float(cost[chosen].sum())
            best = min(best, (total, tuple(chosen)))
            return
        for color in candidates[names[len(chosen)]]:
            i = index[color]
            if all(ok[i, j] for j in chosen):
                extend([*chosen, i])

    extend([])
    print(f"\nsearched {len(pool)} candidate colours; {' x '.join(str(len(c)) for c in candidates.values())}")
    return {e: pool[i] for e, i in zip(names, best[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="re-run the search that chose the palette")
    args = parser.parse_args()
    describe("earlier palette (Tableau 10)", EARLIER)
    describe("fer_core.labels.EMOTION_COLORS", EMOTION_COLORS)
    if args.search:
        found = search()
        describe("search result", found)
        print("\nsame as EMOTION_COLORS:", found == EMOTION_COLORS)
    print(f"\nthresholds: every pair >= {NORMAL_MIN:g} CIEDE2000 (normal vision), >= {CVD_MIN:g} (each "
          "simulation); every colour >= 3:1 on white")  # fmt: skip


if __name__ == "__main__":
    main()
