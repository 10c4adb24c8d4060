"""Normalising Chinese text at the edge: Traditional → Simplified, full-width → half-width
for ASCII, collapsed whitespace, no control characters. Applied to what residents and staff
type, so search, duplicates and classification see one spelling."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation to half-width; CJK punctuation
    such as ，。 stays (it is the normal form in Chinese text)."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF01 <= code <= 0xFF5E and unicodedata.category(ch)[0] in "LN":
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def normalise(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = _t2s().convert(to_half_width(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
