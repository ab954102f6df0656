"""The figures' chart colours against the bar's track: WCAG 2.1's 3:1 for graphics (1.4.11), which axe does not
check inside an SVG (review of console-rest, 8)."""

from __future__ import annotations

import re
from pathlib import Path

FIGURES = Path(__file__).parents[1] / "console" / "templates" / "figures.html"


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_bar_colour_stands_out_from_its_track_by_three_to_one():
    template = FIGURES.read_text()
    track = re.search(r'height="16" fill="(#[0-9a-f]{6})"></rect>', template)[1]
    bars = set(re.findall(r'"(#[0-9a-f]{6})"', re.search(r"set colours = (.*) %}", template)[1]))
    assert bars, "the chart colours are where this test reads them"
    assert {bar: round(contrast(bar, track), 2) for bar in bars if contrast(bar, track) < 3} == {}
