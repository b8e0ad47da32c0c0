"""The CQL2 parse that runs in its own process (`python -m layers.serving.cql2_parse`): text or JSON in, the
CQL2-JSON syntax tree out. It imports only the parser; see layers/serving/isolated.py for why."""

from __future__ import annotations

from typing import Any

import cql2


def parse(text: str, lang: str) -> Any:
    if lang == "cql2-text":
        return cql2.parse_text(text).to_json()
    return cql2.parse_json(text).to_json()


if __name__ == "__main__":  # pragma: no cover - the child process
    from layers.serving.isolated import serve_json_lines

    serve_json_lines(parse)
