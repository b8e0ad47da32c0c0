"""CQL2 `filter` (OGC API Features Part 3) turned into SQL over a collection's properties.

The `cql2` library parses CQL2-text or CQL2-JSON into the JSON syntax tree; this module walks that tree and
builds psycopg SQL in which every literal is quoted by psycopg and every property is looked up in the
collection (an unknown property, a type mismatch or an unsupported operator is a 400 that says which).
Supported: Basic CQL2 (and, or, not, =, <>, <, <=, >, >=, isNull), advanced comparison (like, between, in),
spatial functions (s_intersects, s_within, s_contains, s_disjoint, s_equals, s_overlaps, s_touches, s_crosses
on the `geometry` property with GeoJSON or BBOX literals in CRS84) and array functions on array properties.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg import sql

from geo.errors import InvalidInput
from layers.serving.collections import Collection, Property
from layers.serving.isolated import ChildError, IsolatedFunction

COMPARISONS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
SPATIAL = {"s_intersects": "ST_Intersects", "s_within": "ST_Within", "s_contains": "ST_Contains",
           "s_disjoint": "ST_Disjoint", "s_equals": "ST_Equals", "s_overlaps": "ST_Overlaps",
           "s_touches": "ST_Touches", "s_crosses": "ST_Crosses"}
ARRAYS = {"a_equals": "=", "a_contains": "@>", "a_containedby": "<@", "a_overlaps": "&&"}
NUMERIC = ("integer", "number")


# Bounds checked before anything reaches the parser (layers/serving/isolated.py says why). Parse time of the cql2
# parser doubles with every bracket level past about 10 when the expression inside is not valid, so 10 levels (a
# few ms at worst) is the limit; real filters nest 2 or 3 deep.
MAX_FILTER_CHARS = 4_000
MAX_NESTING = 10
MAX_TOKENS = 400
MAX_NOT = 20
PARSE_TIMEOUT_S = 2.0
_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {v: k for k, v in _OPENING.items()}
_PARSER = IsolatedFunction("layers.serving.cql2_parse", PARSE_TIMEOUT_S, "filter")


def check_bounds(text: str, lang: str) -> None:
    """InvalidInput unless the filter is short, balanced, shallow and of few tokens: measured on the text itself
    (quoted strings skipped), in linear time, before any parser sees it."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(f"filter is {len(text):,} characters long; at most {MAX_FILTER_CHARS:,} are accepted")
    stack: list[tuple[str, int]] = []
    deepest = tokens = nots = 0
    quote: str | None = None
    word = ""
    position = 0
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\" and lang == "cql2-json":
                position += 1
            elif char == quote:
                quote = None
            position += 1
            continue
        if char in "'\"":
            quote = char
            tokens += 1
        elif char in _OPENING:
            stack.append((char, position))
            deepest = max(deepest, len(stack))
        elif char in _CLOSING:
            if not stack or stack[-1][0] != _CLOSING[char]:
                raise InvalidInput(f"filter: '{char}' at character {position + 1} closes nothing that is open")
            stack.pop()
        if char.isalnum() or char in "_.":
            word += char
        else:
            if word:
                tokens += 1
                nots += word.upper() == "NOT"
            word = ""
            tokens += not char.isspace()
        position += 1
    if word:
        tokens += 1
        nots += word.upper() == "NOT"
    if quote:
        raise InvalidInput(f"filter: a quoted text is never closed (it opens with {quote})")
    if stack:
        char, where = stack[-1]
        raise InvalidInput(f"filter: '{char}' at character {where + 1} is never closed")
    if deepest > MAX_NESTING:
        raise InvalidInput(f"filter nests brackets {deepest} deep; at most {MAX_NESTING} levels are accepted")
    if tokens > MAX_TOKENS:
        raise InvalidInput(f"filter has {tokens} tokens; at most {MAX_TOKENS} are accepted")
    if nots > MAX_NOT:
        raise InvalidInput(f"filter has {nots} NOTs; at most {MAX_NOT} are accepted")


def parse_filter(text: str, lang: str | None) -> Any:
    """The CQL2-JSON syntax tree of a bounded filter, parsed in the isolated parser process (blocking: call it
    off the event loop)."""
    lang = (lang or "cql2-text").strip().lower()
    if lang not in ("cql2-text", "cql2-json"):
        raise InvalidInput(f"filter-lang '{lang}' is not supported: use cql2-text or cql2-json")
    check_bounds(text, lang)
    try:
        return _PARSER.call(text, lang)
    except ChildError as error:
        raise InvalidInput(f"filter: cannot parse the {lang} expression: {str(error).strip()}") from None


def cql2_where(collection: Collection, text: str, lang: str | None
               ) -> tuple[sql.Composable, list, frozenset[str]]:
    """(SQL predicate, its parameters, joins it needs) for a CQL2 filter; InvalidInput when it cannot be applied.

    Literals travel as query parameters (never spliced into the SQL text)."""
    tree = parse_filter(text, lang)
    translator = _Translator(collection)
    predicate = translator.predicate(tree)
    return predicate, translator.params, frozenset(translator.joins)


class _Translator:
    def __init__(self, collection: Collection):
        self.collection = collection
        self.joins: set[str] = set()
        self.params: list = []

    def _value(self, value: Any) -> sql.Composable:
        self.params.append(value)
        return sql.Placeholder()

    def predicate(self, node: Any) -> sql.Composable:
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidInput(f"filter: {json.dumps(node)} is not a condition")
        op, args = node["op"].lower(), node.get("args", [])
        if op in ("and", "or"):
            joined = sql.SQL(" AND " if op == "and" else " OR ").join(self.predicate(a) for a in args)
            return sql.SQL("({})").format(joined)
        if op == "not":
            return sql.SQL("(NOT {})").format(self.predicate(args[0]))
        if op in COMPARISONS:
            return self._comparison(COMPARISONS[op], args)
        if op == "like":
            prop = self._property(args[0])
            if prop.type != "string":
                raise InvalidInput(f"filter: like needs a text property; '{prop.name}' is {prop.type}")
            self._expect(prop, args[1], op)
            return sql.SQL("({} LIKE {})").format(prop.sql, self._value(args[1]))
        if op == "between":
            prop = self._property(args[0])
            for value in args[1:]:
                self._expect(prop, value, op)
            low = self._value(args[1])
            return sql.SQL("({} BETWEEN {} AND {})").format(prop.sql, low, self._value(args[2]))
        if op == "in":
            prop = self._property(args[0])
            values = args[1]
            for value in values:
                self._expect(prop, value, op)
            return sql.SQL("({} IN ({}))").format(prop.sql, sql.SQL(", ").join(map(self._value, values)))
        if op == "isnull":
            return sql.SQL("({} IS NULL)").format(self._operand_sql(args[0]))
        if op in SPATIAL:
            return self._spatial(SPATIAL[op], args)
        if op in ARRAYS:
            prop = self._property(args[0])
            if prop.type != "array" or not isinstance(args[1], list):
                raise InvalidInput(f"filter: {op} needs an array property and a list, e.g. "
                                   f"A_CONTAINS(criteria, ('2a'))")
            values = sql.SQL("ARRAY[{}]::text[]").format(sql.SQL(", ").join(self._value(str(v)) for v in args[1]))
            return sql.SQL("({} {} {})").format(prop.sql, sql.SQL(ARRAYS[op]), values)
        raise InvalidInput(f"filter: operator '{node['op']}' is not supported (supported: and, or, not, "
                           "comparisons, like, between, in, isNull, s_* spatial and a_* array functions)")

    def _property(self, node: Any) -> Property:
        if isinstance(node, dict) and "op" in node:
            raise InvalidInput(f"filter: '{node['op']}' is not supported as an operand (no CQL2 arithmetic or "
                               "functions): compare a property with a value")
        if not (isinstance(node, dict) and "property" in node):
            raise InvalidInput(f"filter: expected a property name, got {json.dumps(node)}")
        name = node["property"]
        prop = self.collection.find_property(name)
        if prop is None or not prop.filterable:
            known = ", ".join(p.name for p in self.collection.properties if p.filterable)
            raise InvalidInput(f"filter: '{name}' is not a queryable of '{self.collection.id}' ({known}, geometry)")
        if prop.join:
            self.joins.add(prop.join)
        return prop

    def _operand_sql(self, node: Any) -> sql.Composable:
        if isinstance(node, dict) and node.get("property") == "geometry":
            return sql.SQL("t.geom")
        if isinstance(node, dict) and "property" in node:
            return self._property(node).sql
        return self._value(node)

    def _comparison(self, operator: str, args: list) -> sql.Composable:
        left, right = args
        if not (isinstance(left, dict) and "property" in left) and isinstance(right, dict) and "property" in right:
            left, right = right, left
            operator = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(operator, operator)
        prop = self._property(left)
        value = right
        if isinstance(value, dict) and "date" in value:
            value = value["date"]
        elif isinstance(value, dict) and "timestamp" in value:
            value = value["timestamp"]
        self._expect(prop, value, operator)
        return sql.SQL("({} {} {})").format(prop.sql, sql.SQL(operator), self._value(value))

    def _expect(self, prop: Property, value: Any, op: str) -> None:
        if prop.type in NUMERIC:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif prop.type == "boolean":
            ok = isinstance(value, bool)
        else:  # strings, dates (as text) and the elements of text arrays
            ok = isinstance(value, str)
        if not ok:
            raise InvalidInput(f"filter: {op} compares '{prop.name}' ({prop.type}) with {json.dumps(value)}")

    def _spatial(self, function: str, args: list) -> sql.Composable:
        geometry, literal = args
        if not (isinstance(geometry, dict) and geometry.get("property") == "geometry"):
            geometry, literal = literal, geometry
            function = {"ST_Within": "ST_Contains", "ST_Contains": "ST_Within"}.get(function, function)
        if not (isinstance(geometry, dict) and geometry.get("property") == "geometry"):
            raise InvalidInput("filter: spatial functions compare the 'geometry' property with a geometry literal")
        if function == "ST_Disjoint":
            return sql.SQL("ST_Disjoint(t.geom, {})").format(self._shape(literal))
        first = self._shape(literal)
        return sql.SQL("(t.geom && {} AND {}(t.geom, {}))").format(first, sql.SQL(function), self._shape(literal))

    def _shape(self, literal: Any) -> sql.Composable:
        if isinstance(literal, dict) and "bbox" in literal:
            box = literal["bbox"]
            if len(box) == 6:
                box = [box[0], box[1], box[3], box[4]]
            return sql.SQL("ST_MakeEnvelope({}, {}, {}, {}, 4326)").format(*(self._value(float(v)) for v in box))
        if isinstance(literal, dict) and "type" in literal:
            return sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON({}), 4326)").format(self._value(json.dumps(literal)))
        raise InvalidInput(f"filter: {json.dumps(literal)} is not a geometry (use POINT(...), BBOX(...) ...)")
