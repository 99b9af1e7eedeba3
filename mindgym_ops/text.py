"""Text helpers: tokenizer-free budgets, stable hashes, answer-leak checks."""

import re
import zlib
from typing import Tuple

# a CJK ideograph (unified, extension A, compatibility): the one definition every text check uses
CJK_CHAR = r"[\u3400-\u9fff\uf900-\ufaff]"
CJK = re.compile(CJK_CHAR)
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


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", s.lower())).strip()


_ANSWER_MARKER = re.compile(
    r"(?im)^\s*(\**\s*(final answer|answer|therefore,? the answer|so the answer)\b|最终答案|答案[:：])"
)


_INLINE_ANSWER = re.compile(r"\s(?:A|Answer|答案?)\s*[:：]\s")


def strip_answer_leak(thinking: str, answer: str, inline: bool = False) -> Tuple[str, bool]:
    """Remove a trailing "Answer: ..." section (on its own line; `inline`: anywhere after the first
    third, as in "Q? A: ..."), and from a thinking a closing sentence that states the answer when the
    steps before it say nothing of it; report whether the full answer text, when long enough to be
    distinctive, still appears inside what is left."""
    m = (_INLINE_ANSWER if inline else _ANSWER_MARKER).search(thinking)
    if m and m.start() > len(thinking) // 3:
        thinking = thinking[: m.start()].rstrip()
    na = _norm(answer)
    leaked = len(na) >= 20 and na in _norm(thinking)
    if leaked and not inline:  # "..., and ended in 1861. Therefore, <the answer>." keeps its steps
        steps = _LAST_SENTENCE.sub("", thinking).rstrip()
        if len(steps) >= MIN_STEPS and na not in _norm(steps) and na in _norm(thinking[len(steps) :]):
            return steps, False
    return thinking, leaked


# the last sentence of a text (after ". ", "。", "!" or "?"); what stays must still be a reasoning
_LAST_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*[^.!?。！？]+[.!?。！？]?\s*$")
MIN_STEPS = 20


_CHOICE = re.compile(
    r"\b(?:which|whether|who|what (?:happened|came|was|is))\b[^?]*(?:\?[^?]*)?\bor\b|哪[^？?]*还是|还是[^？?]*哪",
    re.IGNORECASE,
)


def offers_choice(question: str) -> bool:
    """A choice question ("Which happened earlier: A, or B?") names its answer among the options; that
    is not stating it."""
    return bool(_CHOICE.search(question or ""))


def hash_index(key: str) -> int:
    """A stable small integer from a string (Python's hash() differs per process)."""
    return zlib.crc32(key.encode("utf-8"))
