"""The folium pieces every page is made of, with every JS/CSS link pointing at the app's own /static copies.

folium's Map, Draw and VectorGridProtobuf link their libraries from CDNs by default (Leaflet, jQuery, Bootstrap,
Font Awesome, Leaflet.draw, VectorGrid from unpkg). The subclasses here replace those lists, so a page makes no
request that leaves the server: the pages work without internet (DESIGN.md, "Pages work offline").

A page is a folium Map with vector-tile layers and a layer control; the behaviour (popups, filters, search, the
proposal form, the keterpaduan panel) is in maps/static/kotaku/*.js, started by `PageScript` with the JS names of
the folium layers. Data reaches the page only as JSON (`<script type="application/json">`) or through the API;
the scripts put database text into the page with textContent, never as HTML.
"""

from __future__ import annotations

import json
from typing import Any

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.plugins import Draw, VectorGridProtobuf
from folium.template import Template

STATIC = "/static"
VENDOR = f"{STATIC}/vendor"
LEAFLET_JS = [("leaflet", f"{VENDOR}/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", f"{VENDOR}/leaflet/leaflet.css")]
INDONESIA_BOUNDS = [[-11.1, 94.9], [6.1, 141.1]]  # [[south, west], [north, east]]


class OfflineMap(folium.Map):
    """folium.Map with Leaflet from /static and nothing else (no jQuery, Bootstrap or icon fonts)."""

    default_js = LEAFLET_JS
    default_css = LEAFLET_CSS


class OfflineDraw(Draw):
    default_js = [("leaflet_draw_js", f"{VENDOR}/leaflet-draw/leaflet.draw.js")]
    default_css = [("leaflet_draw_css", f"{VENDOR}/leaflet-draw/leaflet.draw.css")]


class VectorTiles(VectorGridProtobuf):
    """A layer of our MVT tiles (`/tiles/{collection}/{z}/{x}/{y}.pbf`) drawn by Leaflet.VectorGrid.

    Its style comes from the page's JS (`kotaku.vectorOptions(key)`), which reads the legend in the page config,
    so the colours on the map and in the legend are one definition.
    """

    default_js = [("vectorGrid", f"{VENDOR}/leaflet-vectorgrid/Leaflet.VectorGrid.bundled.min.js")]

    def __init__(self, key: str, collection: str, name: str, *, show: bool = True, query: str = ""):
        url = f"/tiles/{collection}/{{z}}/{{x}}/{{y}}.pbf" + (f"?{query}" if query else "")
        super().__init__(url, name=name, options=f"kotaku.vectorOptions({json.dumps(key)})", show=show)
        self.key = key


def script_json(value: Any) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' can close the element or start a comment."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class PageScript(JSCSSMixin):
    """The page's own script and style, its config (JSON), its static markup (the side panel), and the call that
    starts it with the map and the JS names of its folium layers. Add it to the map last."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <script type="application/json" id="kotaku-config">{{ this.config_json }}</script>
        {{ this.panel }}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        kotaku.start({{ this.page|tojson }}, {{ this._parent.get_name() }}, {
            {%- for key, element in this.refs.items() %}
            {{ key|tojson }}: {{ element }},
            {%- endfor %}
        });
        {% endmacro %}
    """)

    def __init__(self, page: str, config: dict, panel: str, refs: dict[str, str]):
        super().__init__()
        self._name = "PageScript"
        self.page = page
        self.config_json = script_json(config)
        self.panel = panel
        self.refs = refs
        self.default_js = [("kotaku_common", f"{STATIC}/kotaku/common.js"),
                           ("kotaku_page", f"{STATIC}/kotaku/{page}.js"),
                           ("kotaku_view", f"{STATIC}/kotaku/tampilan.js")]  # phones, scale, permalink, downloads
        self.default_css = [("kotaku_css", f"{STATIC}/kotaku/kotaku.css")]


def new_map(bounds: list[list[float]] | None) -> OfflineMap:
    """A map without a base layer of folium's (maps/pages/basemap.py adds ours). Its scale bar is added by
    tampilan.js: metric only (folium's would show miles and feet too). Tiles show as they arrive, without Leaflet's
    0.2 s fade: each frame of a fade composites the whole page again, which phones without a usable GPU do on the
    CPU (bench/pages.py, A/B in one run: city view 1.31 -> 1.15 s, street view 1.12 -> 0.95 s)."""
    m = OfflineMap(location=[-2.5, 117.0], zoom_start=5, tiles=None, control_scale=False, max_zoom=19,
                   min_zoom=4, zoom_control=True, fade_animation=False)
    m.fit_bounds(bounds or INDONESIA_BOUNDS)
    return m


def render(m: OfflineMap, title: str) -> str:
    """The whole HTML document, in Bahasa Indonesia."""
    figure = m.get_root()
    if not isinstance(figure, Figure):  # branca types get_root as any Element; a folium Map's root is a Figure
        raise TypeError(f"the map's root is a {type(figure).__name__}, not a Figure")
    figure.title = title
    figure.header.add_child(Element('<meta name="referrer" content="same-origin">'), name="referrer")
    figure.header.add_child(Element(f'<link rel="icon" href="{STATIC}/kotaku/favicon.svg" type="image/svg+xml">'),
                            name="icon")
    html = figure.render()
    return html.replace("<html>", '<html lang="id">', 1)


NAV = (("peta", "/peta", "Peta kumuh"), ("usulan", "/peta/usulan", "Usulan"),
       ("keterpaduan", "/peta/keterpaduan", "Keterpaduan"), ("publik", "/publik", "Catatan publik"))


def panel(page: str, title: str, body: str) -> str:
    """The side panel: title, links between the pages, the login box (filled by JS), then the page's sections."""
    links = "".join(f'<a href="{href}"{" aria-current=page" if key == page else ""}>{label}</a>'
                    for key, href, label in NAV)
    return (f'<aside id="panel" class="kotaku-panel halaman-{page}"><header><h1>{title}</h1><nav>{links}</nav>'
            f'<div id="akun" class="akun"></div></header>{body}</aside>')
