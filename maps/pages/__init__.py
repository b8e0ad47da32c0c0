"""The HTML pages (folium maps, Bahasa Indonesia): /peta (viewer for Pokja PKP), /peta/usulan (planners draw
proposals) and /peta/keterpaduan (programme integration map). Their JS and CSS, and the vendored Leaflet,
Leaflet.draw and Leaflet.VectorGrid, are in maps/static, served by the app at /static."""

from pathlib import Path

from maps.pages.keterpaduan import keterpaduan_page
from maps.pages.proposal import proposal_page
from maps.pages.viewer import viewer_page

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

__all__ = ["STATIC_DIR", "keterpaduan_page", "proposal_page", "viewer_page"]
