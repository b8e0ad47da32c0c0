"""A parser for tests of layers/serving/isolated.py that crashes the process or hangs when asked to."""

from __future__ import annotations

import ctypes
import time


def parse(text: str) -> str:
    if text == "crash":
        ctypes.string_at(0)  # SIGSEGV, as a native library's stack overflow would
    if text == "hang":
        time.sleep(60)
    if text == "fail":
        raise ValueError("not a valid expression")
    return text.upper()


if __name__ == "__main__":
    from layers.serving.isolated import serve_json_lines

    serve_json_lines(parse)
