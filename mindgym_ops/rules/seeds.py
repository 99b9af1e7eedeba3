"""What the seed answers imply: which option of a choice over two seeds is right, how far apart two measured seeds
are, which seed answers a question states or hides, and whether a record's answer is worked out by code from
seed answers found in its document (verified by construction)."""

import re
from typing import Dict, List, Optional, Sequence, Tuple

from .questions import (
    ORDER,
    asks_difference,
    asks_which_came_first,
    describe,
    in_years,
    options,
    order_word,
    picked,
)
from .words import CJK, answer_head, contains, distinctive, numbers, same_number, terms, years

Seeds = Sequence[Dict[str, str]]
MONTHS = "january february march april may june july august september october november december".split()
_ZH_MONTH, _ZH_DAY = re.compile(r"(\d{1,2})\s*月"), re.compile(r"(\d{1,2})\s*[日号]")


def first_year(answer: str) -> Optional[int]:
    found = years(answer)
    return found[0] if found else None


def _month(text: str) -> int:
    m = _ZH_MONTH.search(text)
    if m and 1 <= int(m.group(1)) <= 12:
        return int(m.group(1))
    return next((i + 1 for i, name in enumerate(MONTHS) if name in text.lower()), 0)


def measured(answer: str, temporal: bool) -> bool:
    """A number (Comparison) or a date with a year or a month (Temporal), in digits or in words."""
    if not (numbers(answer) and distinctive(answer)):
        return False
    return not temporal or first_year(answer) is not None or _month(answer or "") > 0


def unit(answer: str) -> Tuple[str, ...]:
    """What an amount is measured in: its currency sign and its words ("$25 million" -> ("$", "million"); "80,000元"
    -> ("元",))."""
    text = (answer or "").lower()
    signs = set(re.findall(r"[$€£¥]", text)) | set(re.findall(r"[a-z]+", text))
    return tuple(sorted(signs | set(CJK.findall(re.sub(r"[零〇一二三四五六七八九十两百千万亿]", "", text)))))


def value(answer: str, temporal: bool) -> Optional[tuple]:
    """A comparable value of a measured answer: (year, month, day) for a date, else its first number."""
    said = numbers(answer)
    if not said:
        return None
    if not temporal:
        return (said[0],)
    found = years(answer)
    month = _month(answer or "")
    day = _ZH_DAY.search(answer or "")
    days = [int(day.group(1))] if day else [int(n) for n in said if 1 <= n <= 31]
    return (found[0] if found else said[0], month, days[0] if days and month else 0)


def answer_of(seed: Dict[str, str]) -> str:
    """A seed's answer without its justification."""
    return answer_head(seed.get("answer", "")) or seed.get("answer", "")


def phrase_terms(seed: Dict[str, str]) -> set:
    """The stemmed content words of what a seed asks about (its phrase, else its question)."""
    question = seed.get("question", "")
    return terms(describe(question)[0] or question, stemmed=True)


# ---- choices and differences over two seeds


def option_answers(choices: Sequence[str], seeds: Seeds) -> Optional[List[str]]:
    """The answer of the seed each option names (by the words of the seed's phrase), or None when an option names no
    seed clearly."""
    found = []
    for choice in choices:
        own = terms(choice, stemmed=True)
        scored = []
        for s in seeds:
            theirs = phrase_terms(s)
            scored.append((len(own & theirs) / len(own | theirs) if own | theirs else 0.0, s))
        scored.sort(key=lambda x: -x[0])
        if not scored or scored[0][0] < 0.5 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
            return None
        found.append(scored[0][1].get("answer", ""))
    return found


def expected_option(question: str, seeds: Seeds) -> Optional[int]:
    """For a choice question over seeds with measured answers ("Which is greater: A, or B?"), the index of the option
    the seed answers make right; None when the question, its options or the values do not decide it."""
    choices, word = options(question), order_word(question)
    answers = option_answers(choices, seeds) if len(choices) == 2 else None
    if word is None or answers is None:
        return None
    values = [value(a, asks_which_came_first(word)) for a in answers]
    if None in values or values[0] == values[1]:
        return None
    return values.index(ORDER[word](values))


def difference_of(question: str, seeds: Seeds) -> Optional[List[str]]:
    """The answers of the two measured seeds a difference question names ("How many years passed between when the
    case began and when it ended?"), or None. Such a question shares most of its words with each seed it names, as
    a choice between two seeds does."""
    if not asks_difference(question):
        return None
    asked = terms(question, stemmed=True)
    own = [phrase_terms(s) for s in seeds]
    shared = set.intersection(*own) if len(own) > 1 else set()
    named = []
    for s, mine in zip(seeds, own):  # most of its words, and the words that set it apart, are asked about
        apart = mine - shared
        if apart and apart <= asked and len(mine & asked) / len(mine) >= 0.6 and measured(s.get("answer", ""), False):
            named.append(s.get("answer", ""))
    return named if len(named) == 2 else None


def expected_difference(question: str, seeds: Seeds) -> Optional[float]:
    """For a question that asks how far apart two measured seed answers are, that difference: in years when both
    answers hold a year, else between their first numbers (the same unit); a question that names no two such seeds
    but writes two years itself asks their difference. None when the question does not ask one, or neither gives
    two values (then no check is made)."""
    if not asks_difference(question):
        return None
    named = difference_of(question, seeds)
    if named is None:  # the two years written in the question itself ("... in 1799 and ... in 1798?")
        own = list(dict.fromkeys(years(question)))
        return float(abs(own[0] - own[1])) if len(own) == 2 and in_years(question) else None
    found = [first_year(a) for a in named]
    if None not in found and in_years(question):
        return float(abs(found[0] - found[1]))
    if unit(named[0]) != unit(named[1]):
        return None
    a, b = value(named[0], False), value(named[1], False)
    return abs(a[0] - b[0]) if a and b else None


def wrong_difference(question: str, answer: str, seeds: Seeds) -> Optional[float]:
    """The difference the seed answers give, when the answer does not state it; else None."""
    want = expected_difference(question, seeds)
    if want is None:
        return None
    return None if any(same_number(abs(n), want) for n in numbers(answer)) else want


def wrong_choice(question: str, answer: str, seeds: Seeds) -> Optional[str]:
    """The option the answer should have named, when it names the other one; else None."""
    right = expected_option(question, seeds)
    if right is None:
        return None
    choices = options(question)
    said = picked(answer, choices)
    return choices[right] if said is not None and said != right else None


# ---- what a question states or hides


def bridge_pairs(seeds: Seeds) -> List[Dict[str, object]]:
    """(from, to, value) links of a chain: seed `from`'s answer `value` appears in seed `to`'s question (1-based).
    The prompt turns each into a rewrite hint; the check keeps `value` out of the question."""
    out = []
    for i, s in enumerate(seeds):
        ans = answer_of(s)
        if not distinctive(ans):
            continue
        for j, t in enumerate(seeds):
            if j != i and contains(t.get("question", ""), ans):
                out.append({"from": i + 1, "to": j + 1, "value": ans})
    return out


def bridge_answers(seeds: Seeds) -> List[str]:
    """Seed answers that another seed's question is built on: the hidden middle of a chain."""
    return list(dict.fromkeys(str(b["value"]) for b in bridge_pairs(seeds)))


def stated_seed_answers(question: str, seeds: Seeds) -> List[str]:
    """The seed answers a question states outright (distinctive ones that no seed question contains: those are
    bridges, or the seeds' own wording)."""
    out = []
    for s in seeds:
        ans = answer_of(s)
        if (
            distinctive(ans)
            and contains(question, ans)
            and not any(contains(t.get("question", ""), ans) for t in seeds)
        ):
            out.append(ans)
    return list(dict.fromkeys(out))


# ---- verified by construction


def in_document(answer: str, document: str) -> bool:
    """The seed answer, or every number the code reads from it, stands in the document."""
    if contains(document, answer):
        return True
    said, there = numbers(answer), numbers(document)
    return bool(said) and all(any(same_number(n, d) for d in there) for n in said)


def worked_out(question: str, answer: str, seeds: Seeds, document: str) -> bool:
    """Whether code works out the question's answer from two seed answers found in `document`, and `answer` states
    it: the option the seed values make right ("Which is greater: A, or B?"), or the difference of two measured
    seeds ("How many years passed between ...?"). Such an answer is verified by construction; a solver that misses
    it finds the question hard, not wrong. False for anything else (the answer is the model's word), and without a
    document (image rows: their seed answers are not looked up)."""
    if not document or not seeds:
        return False
    choices = options(question)
    if choices:
        right, named = expected_option(question, seeds), option_answers(choices, seeds)
        return right is not None and picked(answer, choices) == right and all(in_document(a, document) for a in named)
    named, want = difference_of(question, seeds), expected_difference(question, seeds)
    if named is None or want is None or not all(in_document(a, document) for a in named):
        return False
    return wrong_difference(question, answer, seeds) is None
