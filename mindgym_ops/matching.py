"""Normalised answer matching for short numeric and multiple-choice answers.

`match(reference, candidate)` returns True/False when the reference is short enough to decide
by rule (a number, with or without units, or a choice letter), and None when a judge is needed."""

import re
from typing import Optional

_NUM = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")
_CHOICE = re.compile(r"^\s*(?:\(|\[)?([A-Ha-h])(?:\)|\]|\.|:)?(?:\s|$)")
_CHOICE_IN = re.compile(r"(?:answer|option|choice|答案|选)\s*(?:is|:|：|是)?\s*\(?([A-Ha-h])\b\)?", re.I)
MAX_RULE_WORDS = 8


def _numbers(text: str):
    return [float(n.replace(",", "")) for n in _NUM.findall(text)]


def choice_letter(text: str) -> Optional[str]:
    m = _CHOICE.match(text) or _CHOICE_IN.search(text)
    return m.group(1).upper() if m else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1e-6, 1e-4 * max(abs(a), abs(b)))


def match(reference: str, candidate: str) -> Optional[bool]:
    ref = (reference or "").strip()
    cand = (candidate or "").strip()
    if not ref or len(ref.split()) > MAX_RULE_WORDS:
        return None
    if re.fullmatch(r"\(?[A-Ha-h][\).]?", ref):
        letter = choice_letter(cand)
        return letter == ref.strip("().").upper() if letter else False
    ref_nums = _numbers(ref)
    if len(ref_nums) == 1:
        nums = _numbers(cand)
        return bool(nums) and _close(nums[-1], ref_nums[0])
    if not ref_nums:
        norm = lambda s: re.sub(r"[^\w]+", " ", s.lower()).strip()  # noqa: E731
        return norm(ref) == norm(cand) or None  # unequal words may still mean the same: ask the judge
    return None
