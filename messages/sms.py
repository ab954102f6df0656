"""How an SMS is billed: in segments of GSM-7 (GSM 03.38) or, when one character falls outside it, UCS-2."""

from __future__ import annotations

from math import ceil

_GSM7_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION = set("^{}\\[~]|€\f")  # two septets each (escape + character)


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
