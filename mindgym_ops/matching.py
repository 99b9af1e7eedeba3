"""Normalised answer matching for short numeric and multiple-choice answers.

`match(reference, candidate, question)` returns True/False when the rule can decide (a number, with
or without units, also at the head of a longer answer such as "3 years, because ...", a choice letter,
or which option of a choice question both name), and None when a judge is needed."""

import re
from typing import List, Optional, Tuple

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


def gives(candidate: str, value: float, signed: bool = True) -> Optional[bool]:
    """Whether a short answer gives `value`: the result of its last equation when it writes one ("1997 - 1994
    = 3 years"), else its first or its last number ("3 years (1994 to 1997)", "from 1994 to 1997: 3 years").
    None when it writes no number ("Three years": a judge decides); `signed=False` compares sizes ("-3" gives
    a difference of 3)."""
    text = candidate or ""
    result = numbers(text.rsplit("=", 1)[1]) if "=" in text else []
    said = result[:1] or numbers(text)
    if not said:
        return None
    size = (lambda n: n) if signed else abs
    return any(_close(size(n), value) for n in {said[0], said[-1]})


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


def _around(terms: List[Tuple[int, str]], k: int) -> Tuple[Optional[str], Optional[str]]:
    """The terms just before and after the k-th (None at either end)."""
    return (terms[k - 1][1] if k else None), (terms[k + 1][1] if k + 1 < len(terms) else None)


def _word(term: Optional[str]) -> bool:
    return term is not None and not term[0].isdigit()


def _counts(option: Tuple[Optional[str], Optional[str]], text: Tuple[Optional[str], Optional[str]]) -> bool:
    """Whether a number of an option, with the terms `option` around it there, names it where it stands in
    a text with the terms `text` around it: beside its unit ("5 years"), or its label ("Phase 2") unless
    it counts something else there ("1 year longer")."""
    (before, after), (t_before, t_after) = option, text
    if _word(after):
        return t_after == after
    if _word(before):
        return t_before == before or not _word(t_after)
    return True


def picked(text: str, choices: List[str]) -> Optional[int]:
    """Which option `text` names: by the terms that set each option apart from the others ("5" for "the
    population over the past 5 years" against "... the past 1 year": "years" sets nothing apart, so "59
    years" names neither); when it names several ("A is greater than B"), the one it names first. None
    when it names none. A number names an option only where it stands as it does there (`_counts`): in
    "growth was 1% higher over the past 5 years" the 1 is a value, not the option "the past 1 year"."""
    listed = [list(_terms(c)) for c in choices]
    terms = [{t for _, t in own} for own in listed]
    found = list(_terms(text))
    stands = [_around(found, k) for k in range(len(found))]
    first = {}
    for i, own in enumerate(terms):
        distinct = own - set().union(*(t for j, t in enumerate(terms) if j != i))
        place = {}
        for k, (_, t) in enumerate(listed[i]):
            place.setdefault(t, _around(listed[i], k))
        at = [
            pos
            for (pos, t), there in zip(found, stands)
            if t in distinct and (not t[0].isdigit() or _counts(place[t], there))
        ]
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
