"""HTML pages of the OGC API resources (landing, conformance, collections, items, one feature), in Bahasa
Indonesia. Plain server-side HTML without scripts (works offline); every value is escaped: data is shown as
data (a kawasan called '<b>' stays text)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2rem}"
    "nav a{margin-right:1rem}"
)
REL_NAMES = {
    "self": "halaman ini", "alternate": "format lain", "service-desc": "definisi API (OpenAPI)",
    "service-doc": "dokumentasi API", "conformance": "kesesuaian standar", "data": "koleksi",
    "items": "fitur", "next": "berikutnya", "prev": "sebelumnya", "collection": "koleksi",
    "queryables": "properti yang dapat difilter",
}


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="id"><head><meta charset="utf-8"><title>{escape(title)} · kotaku-gis</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
        f'<body><nav><a href="/">Beranda</a><a href="/collections?f=html">Koleksi</a>'
        f'<a href="/conformance?f=html">Kesesuaian</a><a href="/docs">Dokumentasi API</a></nav>'
        f"<h1>{escape(title)}</h1>{body}</body></html>"
    )


def _links(links: list[dict]) -> str:
    items = []
    for link in links:
        rel = link.get("rel", "")
        label = link.get("title") or REL_NAMES.get(rel, rel)
        kind = f" <small>({escape(link['type'])})</small>" if link.get("type") else ""
        items.append(f'<li><a href="{escape(link["href"])}">{escape(label)}</a>{kind}</li>')
    return "<ul>" + "".join(items) + "</ul>"


def landing_html(doc: dict) -> str:
    return page(doc["title"], f"<p>{escape(doc['description'])}</p><h2>Tautan</h2>{_links(doc['links'])}")


def conformance_html(doc: dict) -> str:
    rows = "".join(f"<li><code>{escape(uri)}</code></li>" for uri in doc["conformsTo"])
    return page("Kesesuaian standar", f"<p>Kelas kesesuaian OGC yang dipenuhi layanan ini:</p><ul>{rows}</ul>")


def collections_html(doc: dict) -> str:
    rows = "".join(
        f'<tr><td><a href="/collections/{escape(c["id"])}?f=html">{escape(c["id"])}</a></td>'
        f"<td>{escape(c['title'])}</td><td>{escape(c['description'])}</td>"
        f'<td><a href="/collections/{escape(c["id"])}/items?f=html">fitur</a></td></tr>'
        for c in doc["collections"]
    )
    table = f"<table><tr><th>id</th><th>judul</th><th>keterangan</th><th></th></tr>{rows}</table>"
    return page("Koleksi", table)


def collection_html(doc: dict) -> str:
    return page(doc["title"], f"<p>{escape(doc['description'])}</p><h2>Tautan</h2>{_links(doc['links'])}")


def queryables_html(doc: dict) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{escape(str(schema.get('type', 'geometri')))}</td>"
        f"<td>{escape(schema.get('title', ''))}</td></tr>"
        for name, schema in doc["properties"].items()
    )
    return page(f"Properti yang dapat difilter: {doc['title']}",
                f"<table><tr><th>properti</th><th>jenis</th><th>arti</th></tr>{rows}</table>")


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False))
    return escape(str(value))


def items_html(title: str, collection_id: str, features: list[dict], matched: int, links: list[dict]) -> str:
    columns: list[str] = []
    for feature in features:
        for key in feature.get("properties") or {}:
            if key not in columns:
                columns.append(key)
    head = "<tr><th>id</th><th>geometri</th>" + "".join(f"<th>{escape(c)}</th>" for c in columns) + "</tr>"
    rows = "".join(
        f'<tr><td><a href="/collections/{escape(collection_id)}/items/{escape(str(f["id"]))}?f=html">'
        f"{escape(str(f['id']))}</a></td><td>{escape((f.get('geometry') or {}).get('type', ''))}</td>"
        + "".join(f"<td>{_value((f.get('properties') or {}).get(c))}</td>" for c in columns) + "</tr>"
        for f in features
    )
    summary = f"<p>{len(features)} dari {matched} fitur.</p>"
    return page(title, summary + _links([link for link in links if link["rel"] in ("next", "prev", "alternate")])
                + f"<table>{head}{rows}</table>")


def item_html(title: str, feature: dict) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_value(v)}</td></tr>"
                   for k, v in (feature.get("properties") or {}).items())
    geometry = (feature.get("geometry") or {}).get("type", "")
    return page(f"{title}: {feature['id']}", f"<p>Geometri: {escape(geometry)}</p><table>{rows}</table>"
                + _links(feature.get("links", [])))
