"""The parts of a page's JSON config every page shares, and the assembly of a page from its layers."""

from __future__ import annotations

from dataclasses import dataclass

import folium
from psycopg import AsyncConnection

import maps.pages.legend as legend
from layers.accounts.access import Principal
from layers.serving.tiles import FEATURE_MIN_ZOOM
from maps.pages.base import PageScript, VectorTiles, new_map, panel, render
from maps.pages.basemap import Basemap
from maps.pages.context import chosen_tenant, reference_options, region_bounds, tenant_choices, with_shown


@dataclass(frozen=True)
class LayerSpec:
    """One vector-tile layer of a page: its key in the page script, collection, name in the layer control,
    how it is drawn (`region`, `slum` or `activity`) and the legend it is coloured by."""

    key: str
    collection: str
    name: str
    kind: str
    legend: str | None = None
    show: bool = True
    interactive: bool = True


@dataclass
class PageContext:
    principal: Principal
    tenant: str | None
    tenants: list[dict]
    reference: dict
    bounds: list[list[float]] | None


async def page_context(conn: AsyncConnection, principal: Principal, asked_tenant: str | None) -> PageContext:
    tenants = await tenant_choices(conn, principal)
    tenant = chosen_tenant(asked_tenant, principal, tenants)
    tenants = await with_shown(conn, tenants, tenant)
    return PageContext(principal, tenant, tenants, await reference_options(conn), await region_bounds(conn, tenant))


def base_config(context: PageContext, specs: list[LayerSpec]) -> dict:
    names = {key: {row["code"]: row["name"] for row in context.reference[key]}
             for key in ("programs", "funding_sources", "kinds")}
    return {
        "tenant": context.tenant,
        "tenants": context.tenants,
        "featureMinZoom": FEATURE_MIN_ZOOM,
        "legends": legend.legends(context.reference),
        "levels": legend.levels(),
        "criteria": legend.criteria_names(),
        "stages": legend.stages(),
        "names": names,
        "layers": {s.key: {"collection": s.collection, "kind": s.kind, "legend": s.legend, "name": s.name,
                           "interactive": s.interactive} for s in specs},
    }


def build_page(page: str, title: str, context: PageContext, specs: list[LayerSpec], config: dict, body: str,
               extra: dict[str, folium.Element] | None = None, tile_query: str = "") -> str:
    """A folium map with the layers (in order, under a layer control), the extra folium elements (e.g. Draw), the
    basemap under them and its names over them (maps/pages/basemap.py), then the page script, rendered to HTML."""
    m = new_map(context.bounds)
    refs = {}
    for spec in specs:
        layer = VectorTiles(spec.key, spec.collection, spec.name, show=spec.show, query=tile_query)
        layer.add_to(m)
        refs[spec.key] = layer.get_name()
    for key, element in (extra or {}).items():
        element.add_to(m)
        refs[key] = element.get_name()
    control = folium.LayerControl(collapsed=False, position="topright", autoZIndex=False).add_to(m)
    Basemap(control.get_name(), context.tenant).add_to(m)
    PageScript(page, {**base_config(context, specs), **config}, panel(page, title, body), refs).add_to(m)
    return render(m, f"{title} - kotaku-gis")
