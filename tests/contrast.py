"""WCAG 2.x contrast ratio between two colours, for the browser tests that measure focus indicators.

`contrast_ratio` is campus_fer.figures.palette_checks' WCAG 2.2 ratio (one definition for the
palette and the page), taking what the browser reports. `parse_css_color` reads what
getComputedStyle returns ("rgb(1, 2, 3)", "rgba(1, 2, 3, 0.5)") or a hex colour; a translucent
colour is first composited over the colour behind it with `over`.
"""

from __future__ import annotations

import re

from campus_fer.figures.palette_checks import contrast_ratio as palette_contrast

RGB = tuple[float, float, float]
RGBA = tuple[float, float, float, float]

_FUNCTIONAL = re.compile(r"rgba?\(\s*([^)]*)\)")


def parse_css_color(text: str) -> RGBA:
    """(r, g, b, alpha) with channels 0-255 and alpha 0-1, from 'rgb(...)', 'rgba(...)' or '#rrggbb'."""
    text = text.strip().lower()
    if text == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if text.startswith("#"):
        digits = text[1:]
        if len(digits) in (3, 4):
            digits = "".join(d * 2 for d in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        alpha = channels[3] / 255 if len(channels) == 4 else 1.0
        return (float(channels[0]), float(channels[1]), float(channels[2]), alpha)
    match = _FUNCTIONAL.fullmatch(text)
    if not match:
        raise ValueError(f"not a CSS colour this helper reads: {text!r}")
    parts = [p for p in re.split(r"[\s,/]+", match.group(1)) if p]
    if len(parts) not in (3, 4):
        raise ValueError(f"not a CSS colour this helper reads: {text!r}")
    r, g, b = (float(p) for p in parts[:3])
    alpha = 1.0
    if len(parts) == 4:
        alpha = float(parts[3][:-1]) / 100 if parts[3].endswith("%") else float(parts[3])
    return (r, g, b, alpha)


def over(top: RGBA, below: RGB) -> RGB:
    """`top` (possibly translucent) composited over the opaque colour `below`."""
    r, g, b, a = top
    return (r * a + below[0] * (1 - a), g * a + below[1] * (1 - a), b * a + below[2] * (1 - a))


def hex_color(color: RGB | str) -> str:
    """'#rrggbb' of an opaque colour given as (r, g, b) with channels 0-255, or as CSS text."""
    rgb = parse_css_color(color)[:3] if isinstance(color, str) else color
    return "#" + "".join(f"{round(min(max(c, 0.0), 255.0)):02x}" for c in rgb)


def contrast_ratio(first: RGB | str, second: RGB | str) -> float:
    """WCAG contrast ratio (1-21) of two opaque colours, as the palette checks compute it."""
    return palette_contrast(hex_color(first), hex_color(second))
