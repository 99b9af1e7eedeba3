"""Normalised answer matching for short numeric and multiple-choice answers.

`match(reference, candidate, question)` returns True/False when the rule can decide (a number, with
or without units, also at the head of a longer answer such as "3 years, because ...", a choice letter,
or which option of a choice question both name), and None when a judge is needed."""

import re
from typing import List, Optional

from .substance import STOPWORDS, stem
from .text import CJK, CJK_CHAR, offers_choice

_NUM = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?|-?\.\d+")
_CHOICE = re.compile(r"^\s*(?:\(|\[)?([A-Ha-h])(?:\)|\]|\.|:)?(?:\s|$)")
_CHOICE_IN = re.compile(r"(?:answer|option|choice|答案|选)\s*(?:is|:|：|是)?\s*\(?([A-Ha-h])\b\)?", re.I)
MAX_RULE_WORDS = 8
_HEAD = re.compile(r"[,;:.](?:\s|$)|\s(?:because|since|as|as the)\s|\s[-–—(]", re.IGNORECASE)


def numbers(text: str) -> List[float]:
    """The numbers written in `text`, in order ("$1,200 in 1994" -> [1200.0, 1994.0])."""
    return [float(n.replace(",", "")) for n in _NUM.findall(text or "")]


def choice_letter(text: str) -> Optional[str]:
    m = _CHOICE.match(text) or _CHOICE_IN.search(text)
    return m.group(1).upper() if m else None


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1e-6, 1e-4 * max(abs(a), abs(b)))


def gives(candidate: str, value: float) -> bool:
    """The candidate's final number is `value` ("3 years", "1997 - 1994 = 3")."""
    said = numbers(candidate)
    return bool(said) and _close(said[-1], value)


def options(question: str) -> List[str]:
    """The options of a choice question ("Which is greater: A, or B?" / "Which came first, A or B?")."""
    if not offers_choice(question):
        return []
    inner = question.rstrip(" ?？")
    sep = next((c for c in (":", "：", "?", "？", ",") if c in inner), None)
    body = inner.split(sep, 1)[1] if sep else inner
    found = [o.strip(" ,.?？") for o in re.split(r",?\s+or\s+|还是", body)]
    return found if len(found) >= 2 and all(found) else []


_TERM = re.compile(rf"\d+(?:\.\d+)?|{CJK_CHAR}+|(?:(?!{CJK_CHAR})[^\W\d_])+")


def _terms(text: str):
    """(offset, term) for what can tell options apart in `text`: each content word, stemmed ("years" is
    "year"), each number, however short ("5"), and CJK character bigrams."""
    flat = re.sub(r"(?<=\d),(?=\d{3})", "", (text or "").lower())
    for m in _TERM.finditer(flat):
        tok, at = m.group(), m.start()
        if CJK.match(tok):
            yield from ((at + i, tok[i : i + 2]) for i in range(len(tok) - 1))
        elif tok[0].isdigit():
            yield at, tok
        elif len(tok) > 1 and tok not in STOPWORDS:
            yield at, stem(tok)


def picked(text: str, choices: List[str]) -> Optional[int]:
    """Which option `text` names: by the terms that set each option apart from the others ("5" for "the
    population over the past 5 years" against "... the past 1 year": "years" sets nothing apart, so "59
    years" names neither); when it names several ("A is greater than B"), the one it names first. None
    when it names none."""
    terms = [{t for _, t in _terms(c)} for c in choices]
    found = list(_terms(text))
    first = {}
    for i, own in enumerate(terms):
        distinct = own - set().union(*(t for j, t in enumerate(terms) if j != i))
        at = [pos for pos, t in found if t in distinct]
        if at:
            first[i] = min(at)
    return min(first, key=first.get) if first else None


def choice_match(question: str, reference: str, candidate: str) -> Optional[bool]:
    """Whether the candidate names the same option as the reference; None when either names none."""
    choices = options(question)
    if not choices:
        return None
    ref, cand = picked(reference, choices), picked(candidate, choices)
    return None if ref is None or cand is None else ref == cand


def match(reference: str, candidate: str, question: str = "") -> Optional[bool]:
    by_choice = choice_match(question, reference, candidate) if question else None
    if by_choice is not None:
        return by_choice
    ref = (reference or "").strip()
    cand = (candidate or "").strip()
    if len(ref.split()) > MAX_RULE_WORDS:  # "<final answer>, then one sentence why": a number up front decides
        head = _HEAD.split(ref, 1)[0]
        ref = head if len(head.split()) <= 3 and len(numbers(head)) == 1 else ""
    if not ref:
        return None
    if re.fullmatch(r"\(?[A-Ha-h][\).]?", ref):
        letter = choice_letter(cand)
        return letter == ref.strip("().").upper() if letter else False
    ref_nums = numbers(ref)
    if len(ref_nums) == 1:
        return gives(cand, ref_nums[0])
    if not ref_nums:
        norm = lambda s: re.sub(r"[^\w]+", " ", s.lower()).strip()  # noqa: E731
        return norm(ref) == norm(cand) or None  # unequal words may still mean the same: ask the judge
    return None
