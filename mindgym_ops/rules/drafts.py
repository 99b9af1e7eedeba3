"""A worked draft for the multi-hop prompt: two seed questions turned into one question, with its answer.

A small model asked to "compare two single-hop questions" copies one of them, or the instruction itself. Shown a
concrete draft built from its own seeds it writes a question that needs both seed answers. The draft is built
model-free from what two seed questions ask about (`questions.describe`) when their answers are measured (numbers;
for Temporal, dates), in the row's language: which is greater; how many years passed between two dated events (two
lookups and a subtraction); else which came first. The answer is worked out by code from the two seed answers (a
subtraction or a comparison, which a small model gets wrong: the 0.5B wrote "13 years" for 1759 to 1861)."""

import re
from typing import Dict, List, Optional, Sequence, Tuple

from .questions import describe
from .seeds import first_year, measured, unit, value
from .words import language_of, normalise

PRINCIPLES = ("Comparison", "Temporal")
_BARE_YEAR = re.compile(r"^(?:in )?[12]\d{3}(?: ?年)?$")  # an answer that is a year and nothing else
WORDING = {
    "en": {
        "greater": "Which is greater: {a}, or {b}?",
        "earlier": "Which happened earlier: {a}, or {b}?",
        "span": "How many years passed between {early} and {late}?",
        "event": "when {phrase}",
        "years": lambda n: f"{n} year{'s' if n != 1 else ''}",
    },
    "zh": {
        "greater": "哪个更大：{a}，还是{b}？",
        "earlier": "哪件事更早：{a}，还是{b}？",
        "span": "从{early}到{late}过了多少年？",
        "event": "{phrase}",
        "years": lambda n: f"{n}年",
    },
}


def worked(seeds: Sequence[Dict[str, str]], principle: str) -> Optional[Tuple[str, str]]:
    """The draft question over the first two seeds that can be compared, in their language, and its answer worked
    out by code; None for Bridging, or when no two seeds fit. Comparison: two amounts in the same unit, asked as
    noun phrases. Two Comparison answers that are bare years, and Temporal answers with two different years: the
    years between them; Temporal dates in one year: which came first."""
    if principle not in PRINCIPLES:
        return None
    temporal = principle == "Temporal"
    found: List[Tuple[str, str, Tuple[str, ...], bool]] = []  # (phrase, answer, unit, an event)
    for s in seeds:
        about, event = describe(s.get("question", ""))
        answer = s.get("answer", "")
        if about and (temporal or not event) and measured(answer, temporal):
            found.append((about, answer, () if temporal else unit(answer), event))
    for i, (first, answer_a, unit_a, event_a) in enumerate(found):
        for second, answer_b, unit_b, event_b in found[i + 1 :]:
            say = WORDING[language_of(first + second)]
            if normalise(answer_a) == normalise(answer_b) or unit_a != unit_b:
                continue
            values = value(answer_a, temporal), value(answer_b, temporal)
            if None in values or values[0] == values[1]:
                continue
            bare = _BARE_YEAR.match(normalise(answer_a)) and _BARE_YEAR.match(normalise(answer_b))
            if not temporal and not bare:
                return say["greater"].format(a=first, b=second), (first if values[0] > values[1] else second)
            years = first_year(answer_a), first_year(answer_b)
            if None in years or years[0] == years[1]:
                return say["earlier"].format(a=first, b=second), (first if values[0] < values[1] else second)
            ends = [say["event"].format(phrase=p) if e else p for p, e in ((first, event_a), (second, event_b))]
            early, late = ends if years[0] < years[1] else ends[::-1]
            return say["span"].format(early=early, late=late), say["years"](abs(years[0] - years[1]))
    return None


def draft(seeds: Sequence[Dict[str, str]], principle: str) -> Optional[str]:
    """The draft question alone (see `worked`), or None."""
    found = worked(seeds, principle)
    return found[0] if found else None
