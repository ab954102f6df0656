"""How an SMS is billed: in segments of GSM-7 (GSM 03.38) or, when one character falls outside it, UCS-2."""

from __future__ import annotations

import unicodedata
from math import ceil

_GSM7_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION = set("^{}\\[~]|€\f")  # two septets each (escape + character)


# Typography a keyboard adds and letters without a decomposition, written as GSM-7 writes them.
_LOOKALIKES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
                             "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u0141": "L",
                             "\u0142": "l", "\u0110": "D", "\u0111": "d"})


def in_gsm7(text: str) -> str:
    """`text` with each character outside GSM-7 written as GSM-7 would ("Šárka" -> "Sarka", a curly quote or an en
    dash as the plain one) where that is a lookalike or the letter without its accent; one such character makes the
    whole text UCS-2, at 67 characters a segment instead of 153. A character with no such form (Cyrillic, Chinese)
    stays: the text is then UCS-2, as it must be. Composed first (NFC): macOS sends "ä" as "a" and a combining
    diaeresis, which is the GSM-7 "ä", not an "a" and a mark outside it."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(char if is_gsm7(char) else _lookalike(char) for char in composed)


def _lookalike(char: str) -> str:
    plain = char.translate(_LOOKALIKES)
    if plain == char:
        # NFD, not NFKD: only an accent comes off; "²" or "½" stays, as "102" would say something else.
        plain = "".join(part for part in unicodedata.normalize("NFD", char) if not unicodedata.combining(part))
    return plain if plain and is_gsm7(plain) else char


def is_gsm7(text: str) -> bool:
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text)


def sms_segments(text: str) -> int:
    """Segments an SMS is billed as: GSM-7 when every character is in the GSM 03.38 alphabet (160 septets, 153
    per part when concatenated; extension characters take two), otherwise UCS-2 (70 UTF-16 units, 67 per part)."""
    if is_gsm7(text):
        length, single, part = sum(2 if char in _GSM7_EXTENSION else 1 for char in text), 160, 153
    else:
        length, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if length <= single else ceil(length / part)
