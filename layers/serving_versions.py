"""Data versions of the layers, and the strong ETags built on them.

Every write to a layer's tables bumps its row in `layer_versions` (statement triggers of migrations 0001 and
0004), inside the writing transaction. An ETag hashes what a response depends on: the versions of the layers
the collection reads, the request (tile address, format, style, filters), who asks (row filters differ), and
the collection's definition (so a code change that alters output also changes the tag). Reading the versions
is one indexed lookup, so a 304 or a cached tile costs no tile query, and an edit shows in the next request.
"""

from __future__ import annotations

import hashlib

from psycopg import AsyncConnection

from layers.access import Principal

# Bump when tile or PNG rendering changes in a way the collection definitions do not show.
RENDERING_REVISION = "1"


async def layer_versions(conn: AsyncConnection, layers: tuple[str, ...]) -> tuple[int, ...]:
    """The current version of each layer (0 for a layer never written)."""
    cur = await conn.execute("SELECT layer, version FROM layer_versions WHERE layer = ANY(%s)", [list(layers)])
    found = dict(await cur.fetchall())
    return tuple(found.get(layer, 0) for layer in layers)


def scope_key(principal: Principal) -> str:
    """What the caller may read, as a cache key part: equal keys see the same rows."""
    return "public" if principal.is_public else repr(principal)


_DEFINITIONS: dict[str, str] = {}


def definition_hash(name: str, definition: object) -> str:
    """A short hash of what produces a resource (e.g. a collection's definition), computed once per name."""
    found = _DEFINITIONS.get(name)
    if found is None:
        found = _DEFINITIONS[name] = hashlib.blake2b(repr(definition).encode(), digest_size=8).hexdigest()
    return found


def strong_etag(definition: str, versions: tuple[int, ...], principal: Principal, *request: object) -> str:
    """A strong validator (quoted, per RFC 9110) for one representation; `definition` from definition_hash."""
    text = "\x1f".join([RENDERING_REVISION, definition, ",".join(map(str, versions)), scope_key(principal),
                        *map(str, request)])
    return '"' + hashlib.blake2b(text.encode(), digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match: '*' or a list of tags (weak comparison, as RFC 9110 asks for If-None-Match)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
