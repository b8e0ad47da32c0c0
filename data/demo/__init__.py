"""The demo datasets: Kota Medan (real boundaries in boundaries/, MIT) and Kota Jakarta Pusat (jakarta_pusat/: real
boundaries, MIT, and OpenStreetMap roads and buildings, ODbL), each with synthetic layers made by generate.py."""
