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


#: full-width letters and digits → ASCII (a table: str.translate runs in C, the classifier
#: normalises every message it reads)
_HALF_WIDTH = {
    code: code - 0xFEE0
    for code in range(0xFF01, 0xFF5F)
    if unicodedata.category(chr(code))[0] in "LN"
}


_FULL_WIDTH = re.compile("[" + "".join(chr(c) for c in sorted(_HALF_WIDTH)) + "]")


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation to half-width; CJK punctuation
    such as ，。 stays (it is the normal form in Chinese text)."""
    # most texts have none: a regex scan costs a fraction of translate's per-character lookup
    return text.translate(_HALF_WIDTH) if _FULL_WIDTH.search(text) else text


def normalise(text: str) -> str:
    text = _CONTROL.sub("", text)
    text = _t2s().convert(to_half_width(text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
