"""No single filter takes the server down: CQL2 input is bounded before parsing, and the parser runs in a child
process that may crash or hang without harm (issue: hardening, unbounded parsers)."""

from __future__ import annotations

import time

import pytest

from geo.errors import InvalidInput
from layers.serving.cql2 import MAX_NESTING, MAX_NOT, MAX_TOKENS, check_bounds, parse_filter
from layers.serving.isolated import ChildError, IsolatedFunction, ParserFailed

CRASH = "NOT (" * 1100 + "stage = 'selesai'" + ")" * 1100  # overflowed the parser's stack: SIGSEGV
FREEZE = "(" * 21 + "stage = 'selesai'"  # backtracking doubled with each '(': seconds per request


@pytest.mark.parametrize(("text", "message"), [
    (CRASH, "characters long"),
    ("NOT (" * 30 + "a = 1" + ")" * 30, f"at most {MAX_NESTING} levels"),
    (FREEZE, "is never closed"),
    ("a = 1)", "closes nothing"),
    ("(a = 1]", "closes nothing"),
    ("name = 'open", "never closed"),
    ("(" * (MAX_NESTING + 1) + "a = " + ")" * (MAX_NESTING + 1), f"at most {MAX_NESTING} levels"),
    (" OR ".join("a=1" for _ in range(MAX_TOKENS // 4 + 1)), f"at most {MAX_TOKENS} are accepted"),
    ("NOT " * (MAX_NOT + 1) + "a = 1", f"at most {MAX_NOT} are accepted"),
])
def test_bounds_refuse_what_would_crash_or_freeze_the_parser(text, message):
    with pytest.raises(InvalidInput, match=message):
        check_bounds(text, "cql2-text")  # refused before any parser sees it
    with pytest.raises(InvalidInput, match=message):
        parse_filter(text, "cql2-text")


@pytest.mark.parametrize("text", [
    "name = 'it''s (not) [a] {bracket}'",  # brackets and quotes inside a text literal do not count
    "NOT (stage IN ('selesai', 'serah_terima')) AND year BETWEEN 2023 AND 2025",
    "(" * MAX_NESTING + "a = 1" + ")" * MAX_NESTING,
])
def test_ordinary_filters_pass_the_bounds(text):
    check_bounds(text, "cql2-text")
    assert parse_filter(text, "cql2-text")["op"]


def test_json_filters_are_bounded_too():
    deep = '{"op": "not", "args": [' * 12 + '{"op": "=", "args": [{"property": "a"}, 1]}' + "]}" * 12
    with pytest.raises(InvalidInput, match="levels are accepted"):
        parse_filter(deep, "cql2-json")
    assert parse_filter('{"op": "=", "args": [{"property": "a"}, "x\\" ("]}', "cql2-json")["op"] == "="


def test_a_parser_that_crashes_or_hangs_costs_one_call_not_the_process():
    parser = IsolatedFunction("tests.layers.misbehaving_parser", timeout_s=1.0, what="test filter")
    try:
        assert parser.call("ok") == "OK"
        with pytest.raises(ParserFailed, match="stopped"):
            parser.call("crash")
        assert parser.call("again") == "AGAIN"  # a new child took over
        started = time.perf_counter()
        with pytest.raises(ParserFailed, match="longer than 1 s"):
            parser.call("hang")
        assert time.perf_counter() - started < 10  # killed at the limit, not after the parser's 60 s
        assert parser.call("still here") == "STILL HERE"
        with pytest.raises(ChildError, match="not a valid expression"):
            parser.call("fail")
    finally:
        parser.close()
