"""Files shipped with the package: reference tables, the demo dataset, boundaries (with their licences)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def data_path(*parts: str) -> Path:
    return DATA_DIR.joinpath(*parts)
