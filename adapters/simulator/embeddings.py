"""Deterministic text embeddings where paraphrases land close together.

How: the text is lowercased and split into words; stopwords ("how", "do", "can", "my", ...)
and one-letter fragments are dropped, and the rest are stemmed by stripping a few common
English suffixes ("resetting" -> "reset", "passwords" -> "password"). Each stem is a feature
of weight 1, and each character trigram of each stem (with `^`/`$` boundary marks) a feature
of weight 0.25, so near-spellings and inflections still overlap. Features go into a 256-dim
vector by signed feature hashing (blake2b picks the slot and the sign), and the vector is
L2-normalised. "How do I reset my password?" and "how can I reset my password" keep the same
stems and get cosine 1.0; prompts sharing no stems score near 0 (hash collisions add noise).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
from functools import lru_cache

DIMENSIONS = 256
_TRIGRAM_WEIGHT = 0.25
_WORD = re.compile(r"[a-z0-9]+")
_SUFFIXES = ("ations", "ation", "ing", "ers", "ies", "ed", "es", "er", "ly", "s")
_STOPWORDS_TEXT = (
    "a an the and or but if of to in on at by for with from into about as is are was were be "
    "been being am do does did doing have has had can could would should will shall may might "
    "must i me my mine we us our you your he him his she her it its they them their this that "
    "these those what which who whom whose how why when where there here please just so not "
    "no yes some any all also very too than then"
)
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2]:
        word = word[:-1]  # "resett" (from "resetting") -> "reset"
    return word


def features(text: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for word in _WORD.findall(text.lower()):
        if len(word) < 2 or word in _STOPWORDS:
            continue
        root = stem(word)
        weights["w:" + root] = weights.get("w:" + root, 0.0) + 1.0
        marked = f"^{root}$"
        for i in range(len(marked) - 2):
            key = "t:" + marked[i : i + 3]
            weights[key] = weights.get(key, 0.0) + _TRIGRAM_WEIGHT
    return weights


@lru_cache(maxsize=65536)
def _slot(feature: str) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode(), digest_size=4).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSIONS, 1.0 if value & 0x8000_0000 else -1.0


@lru_cache(maxsize=4096)
def embed_text(text: str) -> tuple[float, ...]:
    """The unit vector for `text`; an all-stopword text gets a fixed unit vector."""
    vector = [0.0] * DIMENSIONS
    for feature, weight in features(text).items():
        index, sign = _slot(feature)
        vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        vector[0] = norm = 1.0
    return tuple(v / norm for v in vector)


def as_base64(vector: tuple[float, ...]) -> str:
    """OpenAI's `encoding_format: base64`: little-endian float32 bytes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)
