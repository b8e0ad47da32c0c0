"""The Kota Medan demo dataset: real boundaries (boundaries/, MIT) and synthetic layers made by generate.py."""
