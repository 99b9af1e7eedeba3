"""Text helpers: tokenizer-free budgets and stable hashes."""

import re
import zlib
from typing import Tuple

from .rules.words import CJK

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate: one token per CJK character, ~0.75 word per token otherwise."""
    cjk = len(CJK.findall(text))
    words = len(_WORD.findall(CJK.sub(" ", text)))
    return cjk + int(words * 1.3)


def cut_to_budget(text: str, max_tokens: int) -> Tuple[str, bool]:
    """Cut `text` to about `max_tokens`, at a sentence or word boundary; returns (text, was_cut)."""
    if approx_tokens(text) <= max_tokens:
        return text, False
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix within budget
        mid = (lo + hi + 1) // 2
        if approx_tokens(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    head = text[:lo]
    for sep in ("。", ". ", "\n", " "):
        k = head.rfind(sep)
        if k > lo // 2:
            return head[: k + len(sep)].rstrip(), True
    return head, True


def hash_index(key: str) -> int:
    """A stable small integer from a string (Python's hash() differs per process)."""
    return zlib.crc32(key.encode("utf-8"))
