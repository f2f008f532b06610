"""One normal form for the words people type: half-width, simplified characters, lower case."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def _converter() -> OpenCC:
    return OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), traditional → simplified (OpenCC t2s), lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    return _converter().convert(text).lower()
