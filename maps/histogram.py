"""A histogram of an ensemble's measure as inline SVG, with today's value and scenarios marked.

It draws what the engine's summary holds (bin edges, counts, the base layer's and each
scenario's value); it computes nothing new. Inline SVG needs no script and no image request, so
the page keeps a strict Content-Security-Policy, and WeasyPrint prints it in the PDF as drawn.

Examples
--------
>>> svg = histogram_svg([0, 1, 2, 3], [5, 10, 2], [Marker("vandaag", 2.5, "base")], title="Zones geraakt")
>>> svg.startswith("<svg") and "vandaag" in svg
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from geo import dutch

WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 50, 34, 44, 24
BAR = "#9db9d3"
MIN_BAR = 6.0  # pixels
COLOURS = {"base": "#B34700", "scenario": "#6a00a8", "proposal": "#1b7a3d"}


@dataclass(frozen=True)
class Marker:
    """A value drawn as a vertical line with a label: ``kind`` 'base', 'scenario' or 'proposal'."""

    label: str
    value: float
    kind: str = "scenario"


def histogram_svg(edges: Sequence[float], counts: Sequence[int], markers: Sequence[Marker] = (),
                  title: str = "", value_text: Callable[[float], str] | None = None,
                  unit: str = "indelingen", integer: bool = False, share: bool = False) -> Markup:
    """The SVG of one histogram. ``edges`` has one more entry than ``counts``.

    ``integer``: each bin is one whole value (``[v, v + 1)``, as the engine bins counts such as the
    zones an association touches); bars and markers are then centred on their value. ``share``: the
    values are shares, and the axis never runs past 0 or 100 %."""
    text = value_text or (lambda v: dutch.number(v, 0 if float(v).is_integer() else 2))
    edges = [float(e) for e in edges]
    counts = [int(c) for c in counts]
    if len(edges) != len(counts) + 1 or not counts:
        return Markup("")
    shift = 0.5 if integer else 0.0  # a whole value v is drawn in the middle of its bar [v, v + 1)
    # The axis spans the bins that hold plans and every marker (not empty bins the engine padded
    # around a distribution of one value).
    filled = [i for i, c in enumerate(counts) if c] or [0, len(counts) - 1]
    low, high = edges[filled[0]], edges[filled[-1] + 1]
    for m in markers:
        low, high = min(low, m.value), max(high, m.value + (1.0 if integer else 0.0))
    if not integer:
        span = high - low
        pad = (span if span > 1e-9 else max(abs(high) * 0.1, 1e-3)) * 0.08
        low, high = (low - pad if low - pad >= 0 or low < 0 else 0.0), high + pad  # no axis below 0 for counts
        if share:
            high = min(high, 1.0) if high - pad <= 1.0 else high
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_count = max(counts) or 1

    def x(value: float) -> float:
        return LEFT + (value - low) / (high - low) * plot_w

    def y(count: float) -> float:
        return TOP + plot_h - count / top_count * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="histogram" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">']
    if title:
        parts.append(f'<title>{escape(title)}</title>')
    for left, right, count in zip(edges, edges[1:], counts):
        if count:
            x0, x1 = x(left), x(right)
            if x1 - x0 < MIN_BAR:  # a very narrow bin (one value for every plan) stays visible
                x0, x1 = (x0 + x1 - MIN_BAR) / 2, (x0 + x1 + MIN_BAR) / 2
            parts.append(f'<rect x="{x0:.1f}" y="{y(count):.1f}" width="{max(x1 - x0 - 1, 1):.1f}" '
                         f'height="{TOP + plot_h - y(count):.1f}" fill="{BAR}"><title>{escape(text(left))} tot '
                         f'{escape(text(right))}: {dutch.number(count)} {unit}</title></rect>')
    base = TOP + plot_h
    parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{LEFT + plot_w}" y2="{base}" stroke="#5b5b5b"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#5b5b5b"/>')
    if integer:
        whole = range(int(round(low)), int(round(high)))
        step = max(1, len(whole) // 10)
        ticks = [(v + 0.5, float(v)) for v in whole[::step]]
    else:
        ticks = [(v, v) for v in (low, (low + high) / 2, high)]
    for at, value in ticks:
        parts.append(f'<text x="{x(at):.1f}" y="{base + 14}" font-size="11" text-anchor="middle" '
                     f'fill="#1d1d1b">{escape(text(value))}</text>')
    parts.append(f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="11" text-anchor="end" fill="#1d1d1b">'
                 f'{dutch.number(top_count)}</text>')
    parts.append(f'<text x="{LEFT - 4}" y="{base}" font-size="11" text-anchor="end" fill="#1d1d1b">0</text>')
    parts.append(f'<text x="12" y="{TOP + plot_h / 2:.1f}" font-size="10" text-anchor="middle" fill="#5b5b5b" '
                 f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})">{escape(unit)}</text>')
    # Labels stagger upwards so two markers at almost the same value stay readable.
    for i, m in enumerate(sorted(markers, key=lambda m: m.value)):
        colour = COLOURS.get(m.kind, COLOURS["scenario"])
        mx = x(m.value + shift)
        label_y = TOP - 6 - 14 * (i % 3)  # up to three rows of labels above the bars
        dash = "" if m.kind == "base" else ' stroke-dasharray="4 3"'
        anchor = "end" if mx > LEFT + plot_w * 0.7 else "start"
        dx = -3 if anchor == "end" else 3
        parts.append(f'<line x1="{mx:.1f}" y1="{label_y + 2}" x2="{mx:.1f}" y2="{base}" stroke="{colour}" '
                     f'stroke-width="2"{dash}/>')
        parts.append(f'<text x="{mx + dx:.1f}" y="{label_y}" font-size="11" font-weight="bold" '
                     f'text-anchor="{anchor}" fill="{colour}">{escape(m.label)}: {escape(text(m.value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
