"""The basemap under every page's layers: our own OpenStreetMap data, its ground as PNG tiles the server draws
(maps/basemap_png.py), its names as PNG tiles below the street names' zoom and, from there on, drawn by MapLibre GL
JS inside Leaflet from the MapLibre style the API publishes.

Why the ground is not drawn by MapLibre (as it was): a browser without a usable GPU (headless, many phones) draws
WebGL on the CPU, 100-300 ms a frame at a laptop's size, and the page waits for each; bench/pages.py measured the
city view at 1.6-2.0 s with it and the goal is 1.5 s. maps/static/kotaku/basemap.js has the details.

MapLibre GL JS 5.24.1 and @maplibre/maplibre-gl-leaflet 0.1.4 are vendored in maps/static/vendor (BSD-3-Clause and
ISC, each with its licence). basemap.js reads the style `/styles/basemap.json` (`?tenant=` for the kab/kota's
TileJSON) and draws its names (streets, kelurahan, kecamatan, places) in a pane above the slum fills, so a filled
slum area never hides the names inside it. The style names glyph PBFs that kotaku does not ship; the page drops
`glyphs` and MapLibre draws the letters itself with the browser's fonts (TinySDF), with its label collision on: no
two names overlap. Online basemaps (KOTAKU_ONLINE_BASEMAPS) are raster layers of that style, offered in the layer
control and off until chosen; without the setting the page asks no other host.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.template import Template

from layers.basemap.tiles import MAX_ZOOM
from maps.pages.base import STATIC, VENDOR, script_json
from maps.style_json import BASEMAP_ATTRIBUTION
from maps.styles import BASEMAP_COLOURS, STREET_NAMES_FROM

MAPLIBRE = {"scripts": [f"{VENDOR}/maplibre-gl/maplibre-gl.js", f"{VENDOR}/maplibre-gl-leaflet/leaflet-maplibre-gl.js"],
            "css": f"{VENDOR}/maplibre-gl/maplibre-gl.css"}


class Basemap(JSCSSMixin):
    """Adds the basemap layers to the map and to the layer control `control` (the folium LayerControl's JS name).
    Add it after the LayerControl, before the PageScript."""

    default_js = [("kotaku_basemap", f"{STATIC}/kotaku/basemap.js")]  # MapLibre: loaded by it at street zoom
    _template = Template("""
        {% macro script(this, kwargs) %}
        kotakuBasemap.add({{ this._parent.get_name() }}, {{ this.control }}, {{ this.options_json }});
        {% endmacro %}
    """)

    def __init__(self, control: str, tenant: str | None):
        super().__init__()
        self._name = "Basemap"
        self.control = control
        query = f"?{urlencode({'tenant': tenant})}" if tenant else ""
        # streetNamesFrom, maxZoom: Leaflet's zooms, one more than MapLibre's (the pages' 512-px tiles)
        self.options_json = script_json({"style": f"/styles/basemap.json{query}",
                                         "png": f"/tiles/basemap/{{z}}/{{x}}/{{y}}.png{query}",
                                         "credit": BASEMAP_ATTRIBUTION, "background": BASEMAP_COLOURS["background"],
                                         "streetNamesFrom": STREET_NAMES_FROM + 1, "maxZoom": MAX_ZOOM + 1,
                                         "maplibre": MAPLIBRE})
        # Fetched from the head, beside the scripts: the style and its TileJSON would otherwise wait for MapLibre
        # to load and then queue behind the page's first tiles (six connections a host): ~1 s on a city view.
        self.preloads = (f"/styles/basemap.json{query}", f"/tiles/basemap/tilejson.json{query}")

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        if isinstance(figure, Figure):  # a page's root (maps/pages/base.py render)
            for i, url in enumerate(self.preloads):  # crossorigin: the credentials of basemap.js's fetch
                figure.header.add_child(Element(f'<link rel="preload" href="{escape(url)}" as="fetch" '
                                                'crossorigin="anonymous">'), name=f"basemap_preload_{i}")
        return super().render(**kwargs)
