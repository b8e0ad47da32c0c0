"""Place names as people type them, reduced to one key for matching (kelurahan, desa, kecamatan, kawasan).

`name_key` makes these equal:
- case, accents, punctuation and spaces: "Sungai Beliung" == "SUNGAIBELIUNG" == "sungai-beliung";
- administrative prefixes: "Kel. Sei Agul", "Kelurahan Sei Agul", "Desa ...", "Ds ...", "Kec. ..." (when a
  name is nothing but a prefix, e.g. "Desa", it is kept);
- common abbreviations as separate words: Sei/Sg/Sng = Sungai, Tj/Tg = Tanjung, Kp/Kamp = Kampung,
  Psr = Pasar, Pd = Padang, Bt = Batu, Kr = Karang, Mt = Muara (these are read only as whole words);
- roman numerals as separate words (I..XXXIX): "Sukaramai II" == "Sukaramai 2";
- the pre-1972 spellings dj -> j, tj -> c, oe -> u: "Djati" == "Jati", "Tjempaka" == "Cempaka".

Two different places can share a key only when their names differ by the points above; callers that match
names must still report a key that matches several rows as ambiguous, never pick one.
"""

from __future__ import annotations

import re
import unicodedata

# Words dropped at the start of a name (never the last word): administrative prefixes and their abbreviations.
ADMIN_PREFIXES = frozenset({"kelurahan", "kel", "kl", "desa", "ds", "kecamatan", "kec", "kabupaten", "kab"})

ABBREVIATIONS = {
    "sei": "sungai",
    "sg": "sungai",
    "sng": "sungai",
    "tj": "tanjung",
    "tg": "tanjung",
    "tjg": "tanjung",
    "kp": "kampung",
    "kamp": "kampung",
    "psr": "pasar",
    "pd": "padang",
    "bt": "batu",
    "kr": "karang",
    "mt": "muara",
}

_ROMAN = {"i": 1, "v": 5, "x": 10}
_WORD = re.compile(r"[a-z0-9]+")


def roman_to_int(word: str) -> int | None:
    """'ii' -> 2, 'xiv' -> 14, up to 39 (I, V, X only, canonical form); anything else -> None."""
    if not word or any(ch not in _ROMAN for ch in word):
        return None
    total = 0
    for index, ch in enumerate(word):
        value = _ROMAN[ch]
        if index + 1 < len(word) and _ROMAN[word[index + 1]] > value:
            total -= value
        else:
            total += value
    return total if 0 < total < 40 and int_to_roman(total) == word else None


def int_to_roman(number: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out += letters
            number -= value
    return out


def folded_words(text: object) -> list[str]:
    """The words of a name as spelt, folded: case, accents and punctuation gone, prefixes dropped."""
    if text is None:
        return []
    raw = unicodedata.normalize("NFKD", str(text))
    raw = "".join(ch for ch in raw if not unicodedata.combining(ch)).lower()
    raw = raw.replace("'", "").replace("`", "").replace("\u2019", "")
    words = _WORD.findall(raw)
    while len(words) > 1 and words[0] in ADMIN_PREFIXES:
        words = words[1:]
    return words


def spelling_key(text: object) -> str:
    """Equal for two names that differ only in case, accents, spaces, punctuation and an administrative prefix
    ('KEL. KOTA MATSUM IV' == 'Kotamatsum Iv'), unlike name_key ('Sei' != 'Sungai', 'II' != '2')."""
    return "".join(folded_words(text))


def name_words(text: object) -> list[str]:
    """The words of a name, normalised (see the module doc), prefixes dropped."""
    out: list[str] = []
    for word in folded_words(text):
        word = ABBREVIATIONS.get(word, word)
        number = roman_to_int(word)
        if number is not None and out:  # a leading "I" or "X" stays a word
            word = str(number)
        word = word.replace("dj", "j").replace("tj", "c").replace("oe", "u")
        out.append(word)
    return out


def name_key(text: object) -> str:
    """One key per place name: 'Kel. Sungai Beliung' / 'SUNGAIBELIUNG' / 'Sei Beliung' -> 'sungaibeliung'.

    None or a blank name gives ''.
    """
    return "".join(name_words(text))
