"""Answers: whether an attempt gives the reference answer (the self-consistency solver's rule), and whether a thinking
gives its own answer away.

`verdict(question, reference, attempt, seeds)` is True or False when a rule can decide (a number, also at the head
of "3 years, because ..."; a choice letter; the option both name, by its words or by its seed's value; for a
question that asks how far apart two measured seeds are, the difference the attempt gives), and None when a judge
must."""

import re
from typing import Dict, Optional, Sequence, Tuple

from .questions import options, picked
from .seeds import expected_difference, option_answers, value
from .words import answer_head, normalise, numbers, same_number, words

MAX_RULE_WORDS = 8
_CHOICE = re.compile(r"^\s*(?:\(|\[)?([A-Ha-h])(?:\)|\]|\.|:)?(?:\s|$)")
_CHOICE_IN = re.compile(r"(?:answer|option|choice|答案|选)\s*(?:is|:|：|是)?\s*\(?([A-Ha-h])\b\)?", re.I)


def choice_letter(text: str) -> Optional[str]:
    m = _CHOICE.match(text) or _CHOICE_IN.search(text)
    return m.group(1).upper() if m else None


def gives(candidate: str, want: float, signed: bool = True) -> Optional[bool]:
    """Whether a short answer gives `want`: the result of its last equation when it writes one ("1997 - 1994 = 3
    years"), else its first or its last number ("3 years (1994 to 1997)", "from 1994 to 1997: 3 years", "三年").
    None when it writes no number (a judge decides); `signed=False` compares sizes ("-3" gives a difference of 3)."""
    text = candidate or ""
    result = numbers(re.split(r"[=＝]", text)[-1]) if re.search(r"[=＝]", text) else []
    said = result[:1] or numbers(text)
    if not said:
        return None
    size = (lambda n: n) if signed else abs
    return any(same_number(size(n), want) for n in {said[0], said[-1]})


def match(reference: str, candidate: str, question: str = "") -> Optional[bool]:
    """The rule on its own: the option both name, a choice letter, one number, or the same words; None for a judge.
    Where the reference names an option of the question, only the option the candidate names decides (None when
    it names none): a number in an option's words ("in 2000") is a label, not the answer."""
    choices = options(question) if question else []
    right = picked(reference, choices) if choices else None
    if right is not None:
        said = picked(candidate, choices)
        return None if said is None else said == right
    ref, cand = (reference or "").strip(), (candidate or "").strip()
    if len(words(ref)) > MAX_RULE_WORDS:  # "<final answer>, then one sentence why": a number up front decides
        head = answer_head(ref, max_words=3)
        ref = head if len(numbers(head)) == 1 else ""
    if not ref:
        return None
    if re.fullmatch(r"\(?[A-Ha-h][\).]?", ref):
        letter = choice_letter(cand)
        return letter == ref.strip("().").upper() if letter else False
    said = numbers(ref)
    if len(said) == 1:
        return gives(cand, said[0])
    if not said:
        return normalise(ref) == normalise(cand) or None  # unequal words may still mean the same: ask the judge
    return None


def option_by_value(question: str, attempt: str, seeds: Sequence[Dict[str, str]]) -> Optional[int]:
    """The option an attempt names by its value instead of its words ("80000" for "the amount spent on the school",
    whose seed answer is "$80,000"): the one option whose seed value the attempt's first number is; -1 when that
    number is no option's value and the attempt names no option in words either ("200000" does not answer "Which is
    greater: the school's $80,000, or the cafeteria's $50,000?"); None when the options' seed answers are unknown,
    the attempt gives no number, or several options hold its value."""
    choices = options(question)
    answers = option_answers(choices, seeds) if choices else None
    said = numbers(attempt)
    if not answers or not said:
        return None
    hits = [i for i, a in enumerate(answers) if same_number((value(a, False) or (float("nan"),))[0], said[0])]
    if not hits:
        return -1 if picked(attempt, choices) is None else None
    return hits[0] if len(hits) == 1 else None


def verdict(question: str, reference: str, attempt: str, seeds: Sequence[Dict[str, str]]) -> Optional[bool]:
    """The solver's rule on one attempt, or None: a normalised match, else, for a question that asks how far apart
    two measured seed answers are, whether the number the attempt gives (`gives`: an equation's result, else its
    first or last number, sign aside) is that difference; else, for a choice over measured seeds, whether the option
    the attempt names by its value is the one the reference names (a number that is neither option's value is
    wrong)."""
    found = match(reference, attempt, question)
    if found is not None or not seeds:
        return found
    want = expected_difference(question, seeds)
    if want is not None:  # how far apart two seed answers are: the number given decides
        return gives(attempt, want, signed=False)
    said, right = option_by_value(question, attempt, seeds), picked(reference, options(question))
    return None if said is None or right is None else said == right


# ---- a thinking that gives its answer away

_ANSWER_MARKER = re.compile(
    r"(?im)^\s*(\**\s*(final answer|answer|therefore,? the answer|so the answer)\b|最终答案|答案[:：])"
)
_INLINE_ANSWER = re.compile(r"\s(?:A|Answer|答案?)\s*[:：]\s")
# the last sentence of a text (after ". ", "。", "!" or "?"); what stays must still be a reasoning
_LAST_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*[^.!?。！？]+[.!?。！？]?\s*$")
MIN_STEPS = 20


def strip_answer_leak(thinking: str, answer: str, inline: bool = False) -> Tuple[str, bool]:
    """Remove a trailing "Answer: ..." section (on its own line; `inline`: anywhere after the first third, as in
    "Q? A: ..."), and from a thinking a closing sentence that states the answer when the steps before it say nothing
    of it; report whether the full answer text, when long enough to be distinctive, still appears inside what is
    left."""
    m = (_INLINE_ANSWER if inline else _ANSWER_MARKER).search(thinking)
    if m and m.start() > len(thinking) // 3:
        thinking = thinking[: m.start()].rstrip()
    na = normalise(answer)
    leaked = len(na) >= 20 and na in normalise(thinking)
    if leaked and not inline:  # "..., and ended in 1861. Therefore, <the answer>." keeps its steps
        steps = _LAST_SENTENCE.sub("", thinking).rstrip()
        if len(steps) >= MIN_STEPS and na not in normalise(steps) and na in normalise(thinking[len(steps) :]):
            return steps, False
    return thinking, leaked
