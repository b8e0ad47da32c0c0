"""Messages in Bahasa Indonesia and English: one catalogue (data/messages/messages.csv: key, en, id) of templates
with named parameters ({file}, {feature}, {value} ...), rendered by `message(key, lang, **params)`.

Who uses it: import problems (geo/problems.py Problem.key/params, rendered by Problem.text(lang)), errors
(geo/errors.py KotakuError.key/params, `describe(error, lang)`) and the HTTP error answers (api/http_errors.py:
`description` in the language Accept-Language asks for, English by default). A parameter missing from `params`
renders as '?' (never Python's None); None values render as '-'. A parameter that is itself a message
(`Nested(key, params)`) renders in the same language ("volume {problem}" -> "volume 'x' bukan angka").
"""

from __future__ import annotations

import csv
import string
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from data import data_path

Lang = Literal["id", "en"]
LANGS: tuple[Lang, ...] = ("id", "en")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {"en": template, "id": template}."""
    with open(data_path("messages", "messages.csv"), newline="", encoding="utf-8") as handle:
        return {row["key"]: {"en": row["en"], "id": row["id"]} for row in csv.DictReader(handle)}


def placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@dataclass(frozen=True)
class Nested:
    """A catalogue message used as a parameter of another: rendered in the outer message's language."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _plain(value: Any, lang: str | None = "en") -> Any:
    if value is None:
        return "-"
    if isinstance(value, Nested):
        return message(value.key, lang, **value.params)
    if isinstance(value, list | tuple | set):
        return ", ".join(str(_plain(v, lang)) for v in value) or "-"
    return value


def as_lang(lang: str | None, default: Lang = "en") -> Lang:
    text = (lang or "").strip().lower()[:2]
    return "id" if text == "id" else "en" if text == "en" else default


def message(key: str, lang: str | None = "en", **params: Any) -> str:
    """The template of `key` in `lang` (id or en) filled with `params`. KeyError for an unknown key."""
    template = catalogue()[key][as_lang(lang)]
    return string.Formatter().vformat(template, (), _Params({k: _plain(v, lang) for k, v in params.items()}))


def negotiate(accept_language: str | None, default: Lang = "en") -> Lang:
    """The language of an Accept-Language header ('id', 'id-ID,id;q=0.9,en;q=0.8', 'en-US'): the first of id/en
    by q-value; `default` when it names neither."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGS:
            continue
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        if q > 0 and (best is None or (q, -position) > (best[0], -best[1])):
            best = (q, position, lang)
    return best[2] if best else default


def describe(error: Any, lang: str | None) -> str:
    """An error's sentence in `lang`: its catalogue message when it carries a key; else, in English, its own
    message; in Indonesian, the generic sentence of its code followed by its own (English) message."""
    key = getattr(error, "key", None)
    if key:
        return message(key, lang, **(getattr(error, "params", None) or {}))
    report = getattr(error, "report", None)  # a failed import: its problems in the language
    if report is not None and getattr(report, "errors", None) and getattr(report, "features_read", 0):
        problems = report.errors
        first = "; ".join(p.text(lang) for p in problems[:3])
        more = f" (+{len(problems) - 3})" if len(problems) > 3 else ""
        name = str(report.file).replace("\\", "/").rsplit("/", 1)[-1]
        return f"{message('import.nothing', lang, file=name, count=len(problems))}: {first}{more}"
    own = str(getattr(error, "message", error))
    if as_lang(lang) == "en":
        return own
    generic = f"http.{getattr(error, 'code', '')}"
    if generic not in catalogue():
        generic = "http.invalid_input"
    return f"{message(generic, 'id')}: {own}" if own else message(generic, "id")
