"""Run a parser in a child process with a time limit, so a crash in a native library or a runaway parse costs one
request, never the server.

The CQL2 parser (the `cql2` package, Rust through pyo3) overflows its stack on ~1,100 nested `NOT (` and kills the
whole process with SIGSEGV; on deeply nested brackets it backtracks in exponential time. Inputs are bounded before
they get here (layers/serving/cql2.py); this is the second wall. The parse runs in one long-lived child process
(`python -m <module>`, which imports nothing but the parser, answering JSON lines on its stdin/stdout); a parse that
does not answer within the limit is killed, a child that died is replaced at the next call, and the caller gets
`ParserFailed` (a 400 that says so) instead of a dead server. One parse at a time per server process: a parse
takes microseconds, the round trip about 0.1 ms.
"""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from geo.errors import InvalidInput


class ParserFailed(InvalidInput):
    """The parser crashed or ran out of time on this input."""

    code = "filter_too_complex"


class ChildError(Exception):
    """An exception raised by the function in the child, by type name and message."""

    def __init__(self, type_name: str, message: str):
        super().__init__(message)
        self.type_name = type_name


def serve_json_lines(function: Callable[..., Any]) -> None:  # pragma: no cover - runs in the child process
    """The child's loop: one JSON array of arguments a line in, one JSON answer a line out."""
    for line in sys.stdin:
        try:
            answer: list = ["ok", function(*json.loads(line))]
        except Exception as error:  # noqa: BLE001 - every parser error travels back to the caller as text
            answer = ["error", type(error).__name__, str(error)]
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


class IsolatedFunction:
    """`call(*args)` runs the function that `python -m module` serves (see `serve_json_lines`) in the child and
    returns its result; its exceptions come back as `ChildError`; a crash or a time-out raises `ParserFailed`."""

    def __init__(self, module: str, timeout_s: float, what: str):
        self.module, self.timeout_s, self.what = module, timeout_s, what
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def _child(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self._stop()
        self._process = subprocess.Popen([sys.executable, "-m", self.module], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        return self._process

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(timeout=5)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()

    def _failed(self, why: str) -> ParserFailed:
        self._stop()
        return ParserFailed(f"{self.what}: {why}; simplify it (fewer nested brackets or NOTs)")

    def call(self, *args: Any) -> Any:
        with self._lock:
            process = self._child()
            assert process.stdin is not None and process.stdout is not None  # both are pipes (see _child)
            try:
                process.stdin.write(json.dumps(args) + "\n")
                process.stdin.flush()
                with selectors.DefaultSelector() as selector:
                    selector.register(process.stdout, selectors.EVENT_READ)
                    if not selector.select(self.timeout_s):
                        raise self._failed(f"the expression took longer than {self.timeout_s:g} s to parse "
                                           "and was abandoned")
                line = process.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                raise self._failed("the parser stopped on this expression (it was restarted)")
        answer = json.loads(line)
        if answer[0] == "ok":
            return answer[1]
        raise ChildError(answer[1], answer[2])

    def close(self) -> None:
        with self._lock:
            self._stop()
