"""The HTML pages (folium maps, Bahasa Indonesia): /peta (viewer for Pokja PKP, maps/pages/viewer.py), /peta/usulan
(planners draw proposals, proposal.py) and /peta/keterpaduan (programme integration map, keterpaduan.py). Their JS
and CSS, and the vendored Leaflet, Leaflet.draw and Leaflet.VectorGrid, are in maps/static (maps.static_files),
served by the app at /static."""
