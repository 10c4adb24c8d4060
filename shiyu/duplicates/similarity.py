"""Text similarity for duplicate search: character 3-gram shingles, MinHash signatures and
LSH band keys. Pure functions with no database, shared by intake (candidates stored in
`duplicate_bands`), the real-data evaluation and the benchmark.

- Text is normalised (`kit.text.normalise`: Traditional → Simplified, half-width), lower-cased
  and stripped of punctuation and whitespace, so re-posts differing only in layout or
  punctuation are identical.
- Shingles are character 3-grams: Chinese has no spaces, and 3-grams are robust to jieba
  segmenting the same phrase differently in two texts.
- The score is the exact Jaccard similarity of the two shingle sets; MinHash only finds the
  candidates. With 16 bands of 4 rows a pair at Jaccard 0.5 becomes a candidate with
  probability 0.64, at 0.6 with 0.89, at 0.7 with 0.99; unrelated appeals (Jaccard ≈ 0.02)
  collide in some band with probability about 3e-6.
- The signature is computed on the text's code points in numpy: each 3-gram packed into one
  64-bit value (three 21-bit code points), mixed (splitmix64's finaliser), then 64 hash
  functions `a·x + b` (mod 2^64) and the minimum of each. Until revision 0021bandkeys each
  3-gram was CRC32-hashed one by one and reduced modulo a prime: 3.2 times the cost (133
  against 42 µs for an average appeal, paid by every report), with the same precision and
  recall on the labelled real re-posts.
- Hashes are stable across processes (fixed constants and BLAKE2b, never Python's salted
  `hash`), so band keys written by one server are found by another.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shiyu.kit import text as kit_text

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 3
#: long texts are cut: the first 4,000 characters decide whether two appeals are the same
MAX_CHARS = 4000
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def _coefficient(label: str, i: int) -> int:
    digest = hashlib.blake2b(f"shiyu-minhash-{label}{i}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


#: the hash functions a·x + b over 64 bits (a odd: a bijection of the 64-bit values)
_A = np.array([_coefficient("a", i) | 1 for i in range(NUM_PERM)], dtype=np.uint64)[:, None]
_B = np.array([_coefficient("b", i) for i in range(NUM_PERM)], dtype=np.uint64)[:, None]
#: splitmix64's finaliser: packed 3-grams differ in few bits, their mixes in about half
_MIX = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))
_SHIFTS = (np.uint64(30), np.uint64(27), np.uint64(31))
_CODE_POINT_BITS = (np.uint64(42), np.uint64(21))


def clean(*parts: str | None, normalised: bool = False) -> str:
    """Normalised, lower-cased text without punctuation or whitespace. `normalised`: the
    parts went through `kit.text.normalise` already (an event's stored text), which is
    idempotent, so they are not normalised again."""
    joined = "\n".join(p for p in parts if p)
    if not normalised:
        joined = kit_text.normalise(joined)
    return _NOISE.sub("", joined.lower())[:MAX_CHARS]


def shingles(cleaned: str) -> frozenset[str]:
    if len(cleaned) <= SHINGLE:
        return frozenset({cleaned}) if cleaned else frozenset()
    return frozenset(cleaned[i : i + SHINGLE] for i in range(len(cleaned) - SHINGLE + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def shingle_values(cleaned: str) -> npt.NDArray[np.uint64]:
    """One mixed 64-bit value per 3-gram of a non-empty cleaned text (the text itself, padded
    with code point 0, which a cleaned text never holds, when it is shorter)."""
    points = np.frombuffer(cleaned.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < SHINGLE:
        points = np.concatenate([points, np.zeros(SHINGLE - len(points), dtype=np.uint64)])
    high, middle = _CODE_POINT_BITS
    x = (points[:-2] << high) | (points[1:-1] << middle) | points[2:]
    x = (x ^ (x >> _SHIFTS[0])) * _MIX[0]
    x = (x ^ (x >> _SHIFTS[1])) * _MIX[1]
    return np.asarray(x ^ (x >> _SHIFTS[2]), dtype=np.uint64)


def signature(cleaned: str) -> npt.NDArray[np.uint64]:
    """MinHash signature (NUM_PERM values) of a non-empty cleaned text's 3-grams (a 3-gram
    seen twice counts once: the minimum does not change)."""
    # products wrap around modulo 2**64, as the hash functions are defined
    return np.asarray((_A * shingle_values(cleaned)[None, :] + _B).min(axis=1), dtype=np.uint64)


def band_keys(sig: npt.NDArray[np.uint64]) -> list[int]:
    """One signed 64-bit key per band (band number included, so bands never collide)."""
    keys = []
    for band in range(BANDS):
        chunk = sig[band * ROWS : (band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(bytes([band]) + chunk, digest_size=8).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def keys_for(cleaned: str) -> list[int]:
    return band_keys(signature(cleaned)) if cleaned else []


def candidate_probability(similarity: float) -> float:
    """Chance that a pair with this Jaccard similarity shares at least one band."""
    return 1.0 - (1.0 - similarity**ROWS) ** BANDS


_EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance between two (lng, lat) points in metres."""
    lng1, lat1, lng2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
