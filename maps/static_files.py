"""Where the pages' JS, CSS and vendored libraries live on disk (served at /static)."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
