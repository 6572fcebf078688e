"""Shared look of the maps: colours, Dutch number formats, legend, title and attribution.

One visual grammar for every map, so a planner who has read one map reads them all:
coloured fills are zones, bold dark outlines are the layer being examined, red hatching marks
municipalities on the wrong side of a line, grey is Brussels (shown, not judged), white is
"in no zone".
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Sequence

import folium
from branca.element import MacroElement
from jinja2 import Template

from geo import dutch
from geo.paths import ATTRIBUTION

# Soft fills that stay readable under dark outlines and red hatching (no reds among them).
# Ordered so that the few colours a greedy colouring mostly uses are the most distinct.
ZONE_COLOURS = ("#8dd3c7", "#fdb462", "#bebada", "#b3de69", "#fccde5", "#ffed6f", "#80b1d3", "#d9b38c",
                "#ccebc5", "#e5d8bd")
# Distinct strong colours for outlines of different layers (municipality map).
# As many as a municipality map draws layers (every shipped layer and a few imported ones).
LAYER_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4",
                 "#6a3d9a", "#b15928", "#33a02c", "#fb9a99", "#cab2d6", "#666666", "#17becf", "#bcbd22",
                 "#000080", "#fdbf6f", "#00a087", "#8b4513", "#ff1493", "#4d4d00")
OUTLINE = "#1a1a1a"
BOUNDARY = "#8c8c8c"
ZONE_BORDER = "#3d3d3d"
HIGHLIGHT = "#c4001d"
FAIL = "#c4001d"
MOVED = "#6a00a8"
BRUSSELS_FILL = "#cfcfcf"
NO_ZONE_FILL = "#ffffff"
BACKGROUND = "#e3e9ee"
HATCH_ID = "rm-hatch"
HATCH_FILL = f"url(#{HATCH_ID})"
# Population classes around the norms: below the lowest norm in oranges, above it in greens.
BRUSSELS_NOTE = "Brussel valt buiten het Vlaamse decreet lokaal sociaal beleid: getoond, niet beoordeeld"


def nl_int(value: float) -> str:
    """A whole number the Flemish way (``geo.dutch.number``).

    Examples
    --------
    >>> nl_int(60000)
    '60.000'
    """
    return dutch.number(value)


def nl_pct(share: float) -> str:
    """A share as a Dutch percentage (``geo.dutch.percent``).

    Examples
    --------
    >>> nl_pct(0.3714)
    '37,1 %'
    """
    return dutch.percent(share)


def esc(text: object) -> str:
    """Text for HTML (content or attribute).

    Examples
    --------
    >>> esc('<img src=x onerror="go()">')
    '&lt;img src=x onerror=&quot;go()&quot;&gt;'
    """
    return html.escape(str(text), quote=True)


def population_label(year: int) -> str:
    """The population caption with its year, e.g. ``inwoners (1/1/2020)``."""
    return f"inwoners (1/1/{year})"


# -- swatches for legends (inline CSS, so they render without images) -----------------------
def fill_swatch(colour: str, border: str = BOUNDARY) -> str:
    return f'<span class="rm-sw" style="background:{colour};border:1px solid {border}"></span>'


def outline_swatch(colour: str = OUTLINE, width: int = 3, dashed: bool = False) -> str:
    style = "dashed" if dashed else "solid"
    return f'<span class="rm-sw" style="background:transparent;border:{width}px {style} {colour}"></span>'


def line_swatch(colour: str = "#222222") -> str:
    return f'<span class="rm-sw" style="height:0;border-top:3px solid {colour}"></span>'


def hatch_swatch() -> str:
    return ('<span class="rm-sw" style="border:2px solid ' + HIGHLIGHT + ';background:repeating-linear-gradient('
            '45deg,' + HIGHLIGHT + ' 0 1.5px,transparent 1.5px 6px)"></span>')


@dataclass(frozen=True)
class LegendRow:
    """One legend line: a swatch (HTML) and a Dutch label (plain text, escaped here)."""

    swatch: str
    label: str
    strong: bool = False

    def html(self) -> str:
        label = f"<b>{esc(self.label)}</b>" if self.strong else esc(self.label)
        return f'<div class="rm-row">{self.swatch}<span>{label}</span></div>'


class _Control(MacroElement):
    """A Leaflet control holding fixed HTML (legend or title), part of the map container."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function() {
                var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, content: str, position: str, css_class: str):
        super().__init__()
        self._name = "RegiomatchControl"
        self.content = content
        self.position = position
        self.css_class = css_class


def add_legend(m: folium.Map, title: str, rows: Sequence[LegendRow], notes: Sequence[str] = (),
               position: str = "bottomright") -> None:
    """Add a legend box to a map.

    Examples
    --------
    >>> add_legend(m, "Legende", [LegendRow(fill_swatch("#fff"), "niet in een zone")])
    """
    m.rm_legend = (title, list(rows), list(notes))  # drawn by maps.static_map too
    body = "".join(row.html() for row in rows)
    foot = "".join(f'<div class="rm-note">{esc(n)}</div>' for n in notes)
    content = f'<div class="rm-legend-title">{esc(title)}</div>{body}{foot}'
    m.add_child(_Control(content, position, "rm-legend leaflet-bar"))


def add_title(m: folium.Map, title: str, subtitle: str = "") -> None:
    m.rm_title = (title, subtitle)
    sub = f'<div class="rm-subtitle">{esc(subtitle)}</div>' if subtitle else ""
    m.add_child(_Control(f'<div class="rm-title-text">{esc(title)}</div>{sub}', "topleft", "rm-title leaflet-bar"))


def add_download(m: folium.Map, png_url: str) -> None:
    """A "Download als PNG" link (to the same view drawn by ``maps.static_map``) under the title."""
    link = f'<a class="rm-download" href="{esc(png_url)}" download>Download als PNG</a>'
    # Not a "leaflet-bar": that class would shrink the link to a 26 px button.
    m.add_child(_Control(link, "topleft", "rm-title rm-download-box"))


class _Attribution(MacroElement):
    """The data credit in Leaflet's attribution control (there is no tile layer to carry it)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = text


class _Scale(MacroElement):
    """A metric-only scale bar (Flemish users do not need miles), in the attribution's corner so
    Leaflet stacks it above the attribution instead of under it."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, position: "bottomright"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "Scale"


def add_scale(m: folium.Map) -> None:
    m.add_child(_Scale())


def add_attribution(m: folium.Map, population_year: int) -> None:
    from geo.reference.catalog import population_note

    # The sector-sum caveat, said once on the map where the year is named.
    note = population_note(population_year)
    credit = f"{ATTRIBUTION} " + (note if note else f"Bevolking op 1/1/{population_year}.")
    m.rm_attribution = credit  # plain text, for the PNG
    text = f"{esc(ATTRIBUTION)} " + (esc(note) if note else f"Bevolking op 1/1/{population_year}.")
    m.add_child(_Attribution(text))


# Page-wide CSS and the SVG hatch pattern that Leaflet paths reference as ``fill="url(#rm-hatch)"``.
# The pattern has no background: drawn over a zone it adds red lines and leaves the zone's colour
# visible between them, so the hatched zone still matches its legend swatch.
PAGE_CSS = f"""
<style>
  .leaflet-container {{ background: {BACKGROUND};
      font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }}
  .leaflet-pane > svg {{ pointer-events: none; }}
  path.leaflet-interactive:focus {{ outline: none; }}
  .leaflet-control-attribution {{ font-size: 10.5px; line-height: 1.3; }}
  .leaflet-control-scale {{ margin-bottom: 4px !important; }}
  .rm-legend, .rm-title {{ background: rgba(255,255,255,0.94); padding: 8px 10px; font-size: 12.5px;
      line-height: 1.35; color: #222; }}
  .rm-legend {{ max-width: 290px; }}
  .rm-title {{ max-width: 460px; }}
  .rm-legend {{ max-height: 70vh; overflow-y: auto; }}
  .rm-legend-title {{ font-weight: 700; font-size: 13.5px; margin-bottom: 4px; }}
  .rm-row {{ display: flex; align-items: center; gap: 7px; margin: 2px 0; }}
  .rm-sw {{ flex: 0 0 auto; display: inline-block; width: 20px; height: 13px; box-sizing: border-box; }}
  .rm-note {{ margin-top: 5px; color: #555; font-size: 11.5px; }}
  .rm-title-text {{ font-weight: 700; font-size: 15px; }}
  .rm-download-box {{ padding: 4px 10px; white-space: nowrap; border: 2px solid rgba(0,0,0,0.2);
      border-radius: 4px; background-clip: padding-box; }}
  .rm-download {{ color: #0b5394; font-size: 12px; text-decoration: underline; white-space: nowrap; }}
  .rm-subtitle {{ color: #444; font-size: 12px; }}
  .rm-label {{ position: absolute; left: 0; top: 0; transform: translate(-50%, -50%); font-weight: 700;
      font-size: 13px; color: #111; white-space: nowrap;
      text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }}
  .rm-label.rm-label-small {{ font-size: 11px; font-weight: 600; color: #333; }}
  .leaflet-container .leaflet-tooltip, .leaflet-container .leaflet-popup-content {{ font-size: 12.5px;
      line-height: 1.4; }}
  .rm-popup h4 {{ margin: 0 0 3px 0; font-size: 13.5px; }}
  .rm-popup ul {{ margin: 2px 0 6px 0; padding-left: 18px; }}
  .rm-warn {{ color: {HIGHLIGHT}; font-weight: 600; }}
  .rm-muted {{ color: #666; }}
</style>
"""

HATCH_SVG = f"""
<svg width="0" height="0" style="position:absolute" aria-hidden="true">
  <defs>
    <pattern id="{HATCH_ID}" patternUnits="userSpaceOnUse" width="7" height="7" patternTransform="rotate(45)">
      <line x1="0" y1="0" x2="0" y2="7" stroke="{HIGHLIGHT}" stroke-width="1.8" stroke-opacity="0.9"></line>
    </pattern>
  </defs>
</svg>
"""
