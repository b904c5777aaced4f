"""One normalisation for what people type or paste: names, 学号, usernames, school codes.

Text pasted from Word, WeChat or a spreadsheet carries full-width digits, non-breaking spaces and
invisible format characters (U+200B zero-width space, U+FEFF, U+200E …). A roster name holding one
could never match what a student types, and every failed try counted toward the lock. Every path
that compares such values (login, bind, identity check, roster import) goes through these helpers.
"""

from __future__ import annotations

import unicodedata

# Invisible characters that are not category Cf but behave like it in pasted text.
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u180e"}


def _clean(value: object) -> str:
    """NFKC (full-width → ASCII, compatibility forms folded), minus format/invisible characters."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf" and ch not in _INVISIBLE)


def normalise_name(value: object) -> str:
    """A person's name: cleaned, whitespace runs collapsed to one space, trimmed."""
    return " ".join(_clean(value).split())


def normalise_code(value: object) -> str:
    """学号, usernames, school codes, document numbers: cleaned with every whitespace removed."""
    return "".join(_clean(value).split())
