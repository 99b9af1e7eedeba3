"""A worked draft for the multi-hop prompt: two seed questions turned into one comparison question.

A small model asked to "compare two single-hop questions" copies one of them, or the instruction itself.
Shown a concrete draft built from its own seeds ("Which is greater: the rainfall recorded in 1963 or the
rainfall recorded in 1974?") it writes a question that needs both seed answers. The draft is built
model-free from the wording of two seed questions whose answers are numbers or dates (English only:
the rules turn "In which year did the case begin?" into "the case began"); where no rule fits, the
prompt keeps its general hint. The model still writes, answers and explains the question, and the
substance checks still apply to what it writes."""

import re
from typing import Dict, List, Optional, Sequence, Tuple

from .matching import numbers, options, picked
from .substance import contains, content_terms, distinctive, normalise, stem
from .text import offers_choice

IRREGULAR = {
    "begin": "began", "build": "built", "buy": "bought", "bring": "brought", "become": "became",
    "break": "broke", "catch": "caught", "come": "came", "do": "did", "fall": "fell", "find": "found",
    "fight": "fought", "get": "got", "give": "gave", "go": "went", "grow": "grew", "have": "had",
    "hold": "held", "keep": "kept", "know": "knew", "lead": "led", "leave": "left", "lose": "lost",
    "make": "made", "meet": "met", "pay": "paid", "put": "put", "rise": "rose", "run": "ran", "see": "saw",
    "sell": "sold", "send": "sent", "set": "set", "spend": "spent", "take": "took", "teach": "taught",
    "tell": "told", "think": "thought", "win": "won", "write": "wrote", "say": "said", "stand": "stood",
}  # fmt: skip


def past(verb: str) -> str:
    """The simple past of an English verb ("begin" -> "began", "record" -> "recorded")."""
    v = verb.lower()
    if v in IRREGULAR:
        return IRREGULAR[v]
    if v.endswith("e"):
        return v + "d"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ied"
    return v + "ed"


_RULES = [
    # "In which year did the case begin" / "When did the council meet in Kessa" -> "the case began"
    (re.compile(r"^(?:in )?(?:which|what) (?:year|month|day|date)\s+did\s+(.+)$|^when did\s+(.+)$"), "did"),
    # "In which year was the station built" / "When was the dam opened" -> "the station was built"
    (
        re.compile(r"^(?:in )?(?:which|what) (?:year|month|day|date)\s+(was|were)\s+(.+)$|^when (was|were)\s+(.+)$"),
        "was",
    ),
    # "How many ships did Brandt count" -> "the number of ships Brandt counted"
    (re.compile(r"^how (many|much)\s+(\w+)\s+did\s+(.+)$"), "how_did"),
    # "How many patients were treated in 2021" -> "the number of patients treated in 2021"
    (re.compile(r"^how (many|much)\s+(\w+)\s+(?:was|were|is|are)\s+(.+)$"), "how_was"),
    # "What was the total rainfall for 1963" -> "the total rainfall for 1963"
    (re.compile(r"^what (?:is|was|are|were)\s+(the .+)$"), "what"),
]  # fmt: skip


EVENT_VERBS = frozenset(IRREGULAR) | frozenset(
    """start end open close found record count measure arrive join sign launch publish release finish complete
    occur happen receive reach hire elect move discover invent establish create increase decrease report collect
    observe treat admit visit return announce approve decide sink flood die retire marry graduate plant harvest
    produce earn raise cut fix repair install order ship deliver rent lend borrow save invest change replace
    appoint""".split()
)


def _subject_verb(clause: str) -> Optional[str]:
    """'the case begin in 1994' -> 'the case began in 1994': the first event verb after the subject (at
    most five words) goes to the past; None when no known verb is found there."""
    words = clause.split()
    for i in range(1, min(6, len(words))):
        if words[i] in EVENT_VERBS:
            return " ".join(words[:i] + [past(words[i])] + words[i + 1 :])
    return None


def describe(question: str) -> Optional[str]:
    """What an English seed question asks about, as a phrase that fits "Which is greater: X or Y?" (a noun
    phrase: "the total rainfall for 1963") or "Which happened earlier: X or Y?" (also an event: "the case
    began"), or None."""
    return _describe(question)[0]


def _describe(question: str) -> Tuple[Optional[str], bool]:
    """(phrase, whether it is an event clause rather than a noun phrase)."""
    q = question.strip().rstrip("?").strip()
    q = q[0].lower() + q[1:] if q else q
    for pattern, kind in _RULES:
        m = pattern.match(q)
        if not m:
            continue
        if kind == "did":
            return _subject_verb(m.group(1) or m.group(2)), True
        if kind == "was":
            aux, rest = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            words = rest.split()
            for i in range(1, len(words)):  # "the breakwater built in Kessa" -> "the breakwater was built in Kessa"
                if words[i].endswith("ed") or words[i] in IRREGULAR.values():
                    return " ".join(words[:i] + [aux] + words[i:]), True
            return rest, False  # a noun phrase: "the event in 2000"
        if kind == "what":
            return m.group(1), False
        amount = "number" if m.group(1) == "many" else "amount"
        if kind == "how_did":
            rest = _subject_verb(m.group(3))
            return (f"the {amount} of {m.group(2)} {rest}" if rest else None), False
        return f"the {amount} of {m.group(2)} {m.group(3)}", False  # how_was
    return None, False


def _measured(answer: str, temporal: bool) -> bool:
    """A number (Comparison) or a date with a year or a month (Temporal)."""
    if not (re.search(r"\d", answer or "") and distinctive(answer)):
        return False
    return not temporal or _year(answer) is not None or any(m in answer.lower() for m in MONTHS)


def unit(answer: str) -> Tuple[str, ...]:
    """What an amount is measured in: its currency sign and its words ("$25 million" -> ("$", "million"))."""
    text = (answer or "").lower()
    return tuple(sorted(set(re.findall(r"[$€£¥]", text)) | set(re.findall(r"[a-z]+", text))))


def draft(seeds: Sequence[Dict[str, str]], principle: str, language: str = "en") -> Optional[str]:
    """A question over the first two seeds that can be compared, or None (Chinese, Bridging, no pair).
    Comparison: two amounts in the same unit, asked as noun phrases: which is greater. Temporal: two
    dates; with two different years, how many years passed from the earlier to the later (two lookups
    and a subtraction: "which came first" of a start and an end is common sense), else which came first.
    Two Comparison answers that are bare years are compared by the years between them."""
    found = worked(seeds, principle, language)
    return found[0] if found else None


def worked(seeds: Sequence[Dict[str, str]], principle: str, language: str = "en") -> Optional[Tuple[str, str]]:
    """The draft question and its answer, worked out by code from the two seed answers (a subtraction or a
    comparison, which a small model gets wrong: the 0.5B wrote "13 years" for 1759 to 1861)."""
    if language != "en" or principle not in ("Comparison", "Temporal"):
        return None
    temporal = principle == "Temporal"
    found: List[Tuple[str, str, Tuple[str, ...], bool]] = []  # (phrase, answer, unit, an event clause)
    for s in seeds:
        about, event = _describe(s.get("question", ""))
        answer = s.get("answer", "")
        if about and (temporal or not event) and _measured(answer, temporal):
            found.append((about, normalise(answer), () if temporal else unit(answer), event))
    for i, (first, answer_a, unit_a, event_a) in enumerate(found):
        for second, answer_b, unit_b, event_b in found[i + 1 :]:
            if answer_a == answer_b or unit_a != unit_b:
                continue
            values = value(answer_a, temporal), value(answer_b, temporal)
            if None in values or values[0] == values[1]:
                continue
            years = _year(answer_a), _year(answer_b)
            # "which is greater: the year X was built, or the year it was named?" asks nothing: the span does
            if not temporal and not (_BARE_YEAR.match(answer_a) and _BARE_YEAR.match(answer_b)):
                return f"Which is greater: {first}, or {second}?", (first if values[0] > values[1] else second)
            if None in years or years[0] == years[1]:
                return f"Which happened earlier: {first}, or {second}?", (first if values[0] < values[1] else second)
            ends = [("when " if event_a else "") + first, ("when " if event_b else "") + second]
            early, late = ends if years[0] < years[1] else ends[::-1]
            span = abs(years[0] - years[1])
            return f"How many years passed between {early} and {late}?", f"{span} year{'s' if span != 1 else ''}"
    return None


_YEAR = re.compile(r"\b([12]\d{3})\b")
_BARE_YEAR = re.compile(r"^(?:in )?[12]\d{3}$")  # a normalised answer that is a year and nothing else


def _year(answer: str) -> Optional[int]:
    found = _YEAR.search(answer or "")
    return int(found.group(1)) if found else None


MONTHS = "january february march april may june july august september october november december".split()
_ORDER = {"greater": max, "larger": max, "more": max, "higher": max, "later": max, "last": max,
          "smaller": min, "less": min, "fewer": min, "lower": min, "earlier": min, "first": min}  # fmt: skip


def value(answer: str, temporal: bool) -> Optional[tuple]:
    """A comparable value of a measured answer: (year, month, day) for a date, else its first number."""
    text = (answer or "").lower().replace(",", "")
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]
    if not numbers:
        return None
    if not temporal:
        return (numbers[0],)
    years = [n for n in numbers if 1000 <= n <= 2999]
    month = next((i + 1 for i, m in enumerate(MONTHS) if m in text), 0)
    days = [n for n in numbers if 1 <= n <= 31]
    return (years[0] if years else numbers[0], month, days[0] if days and month else 0)


def expected_option(question: str, seeds: Sequence[Dict[str, str]]) -> Optional[int]:
    """For a choice question over seeds with measured answers ("Which is greater: A, or B?"), the index of
    the option the seed answers make right; None when the question, its options or the values do not
    decide it (then no check is made)."""
    choices = options(question)
    word = next((w for w in re.findall(r"[a-z]+", question.lower()) if w in _ORDER), None)
    answers = option_answers(choices, seeds)
    if len(choices) != 2 or word is None or answers is None:
        return None
    temporal = word in ("earlier", "later", "first", "last")
    values = [value(a, temporal) for a in answers]
    if None in values or values[0] == values[1]:
        return None
    return values.index(_ORDER[word](values))


def option_answers(choices: Sequence[str], seeds: Sequence[Dict[str, str]]) -> Optional[List[str]]:
    """The answer of the seed each option names (by the words of the seed's phrase), or None when an
    option names no seed clearly."""
    found = []
    for choice in choices:
        terms = content_terms(choice)
        scored = []
        for s in seeds:
            own = content_terms(describe(s.get("question", "")) or s.get("question", ""))
            scored.append((len(terms & own) / len(terms | own) if terms | own else 0.0, s))
        scored.sort(key=lambda x: -x[0])
        if not scored or scored[0][0] < 0.5 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
            return None
        found.append(scored[0][1].get("answer", ""))
    return found


def option_by_value(question: str, attempt: str, seeds: Sequence[Dict[str, str]]) -> Optional[int]:
    """The option an attempt names by its value instead of its words ("80000" for "the amount spent on the
    school", whose seed answer is "$80,000"): the one option whose seed value the attempt's first number
    is; -1 when that number is no option's value and the attempt names no option in words either ("200000"
    for "Which is greater: the school's spending ($80,000), or the cafeteria's ($50,000)?": it does not
    answer); None when the options' seed answers are unknown, the attempt gives no number, or several
    options hold its value."""
    choices = options(question)
    answers = option_answers(choices, seeds) if choices else None
    said = re.findall(r"\d+(?:\.\d+)?", (attempt or "").replace(",", ""))
    if not answers or not said:
        return None
    wanted = float(said[0])
    hits = [i for i, a in enumerate(answers) if (value(a, False) or (None,))[0] == wanted]
    if not hits:
        return -1 if picked(attempt, choices) is None else None
    return hits[0] if len(hits) == 1 else None


_DIFFERENCE = re.compile(
    r"\bhow many years\b|\bhow (?:much|long) (?:time|later|earlier)\b|\bdifference between\b|"
    r"\bhow (?:much|many) (?:more|less|fewer|greater|larger|smaller)\b",
    re.IGNORECASE,
)


_IN_YEARS = re.compile(r"\byears?\b|\btime\b|\blong\b|\blater\b|\bearlier\b", re.IGNORECASE)


def expected_difference(question: str, seeds: Sequence[Dict[str, str]]) -> Optional[float]:
    """For a question that asks how far apart two measured seed answers are ("How many years passed between
    when the case began and when it ended?", "What is the difference between A and B?"), that difference:
    in years when both answers hold a year, else between their first numbers (the same unit); a question
    that names no two such seeds but writes two years itself asks their difference. None when the question
    does not ask one, or neither gives two values (then no check is made)."""
    if not _DIFFERENCE.search(question or "") or offers_choice(question):
        return None
    named = difference_of(question, seeds)
    if named is None:  # the two years written in the question itself ("... in 1799 and ... in 1798?")
        own = list(dict.fromkeys(int(y) for y in _YEAR.findall(question)))
        return float(abs(own[0] - own[1])) if len(own) == 2 and _IN_YEARS.search(question) else None
    years = [_year(a) for a in named]
    if None not in years and _IN_YEARS.search(question):
        return float(abs(years[0] - years[1]))
    if unit(named[0]) != unit(named[1]):
        return None
    a, b = value(named[0], False), value(named[1], False)
    return abs(a[0] - b[0]) if a and b else None


def difference_of(question: str, seeds: Sequence[Dict[str, str]]) -> Optional[List[str]]:
    """The answers of the two measured seeds a difference question names ("How many years passed between
    when the case began and when it ended?"), or None. Such a question shares most of its words with
    each seed it names, as a choice between two seeds does."""
    if not _DIFFERENCE.search(question or "") or offers_choice(question):
        return None
    asked = _stems(question)
    terms = [_stems(describe(s.get("question", "")) or s.get("question", "")) for s in seeds]
    shared = set.intersection(*terms) if len(terms) > 1 else set()
    named = []
    for s, own in zip(seeds, terms):  # most of its words, and the words that set it apart, are asked about
        apart = own - shared
        if apart and apart <= asked and len(own & asked) / len(own) >= 0.6 and _measured(s.get("answer", ""), False):
            named.append(s.get("answer", ""))
    return named if len(named) == 2 else None


_PRESENT = {v: k for k, v in IRREGULAR.items()}


def _stems(text: str) -> set:
    """Content words with "'s", plural and past endings cut ("the ecosystem's start" and "the ecosystem
    started" name the same thing; "began" is "begin")."""
    return {stem(_PRESENT.get(w, w)) for w in content_terms(text)}


def wrong_difference(question: str, answer: str, seeds: Sequence[Dict[str, str]]) -> Optional[float]:
    """The difference the seed answers give, when the answer does not state it; else None."""
    want = expected_difference(question, seeds)
    if want is None:
        return None
    return None if any(abs(abs(n) - want) <= 1e-6 * max(1.0, want) for n in numbers(answer)) else want


def wrong_choice(question: str, answer: str, seeds: Sequence[Dict[str, str]]) -> Optional[str]:
    """The option the answer should have named, when it names the other one; else None."""
    right = expected_option(question, seeds)
    if right is None:
        return None
    choices = options(question)
    said = picked(answer, choices)
    return choices[right] if said is not None and said != right else None


def _in_document(answer: str, document: str) -> bool:
    """The seed answer, or every number the code reads from it, stands in the document."""
    if contains(document, answer):
        return True
    said, there = numbers(answer), set(numbers(document))
    return bool(said) and all(n in there for n in said)


def worked_out(question: str, answer: str, seeds: Sequence[Dict[str, str]], document: str) -> bool:
    """Whether code works out the question's answer from two seed answers found in `document`, and `answer`
    states it: the option the seed values make right ("Which is greater: A, or B?"), or the difference of two
    measured seeds ("How many years passed between ...?"). Such an answer is verified by construction; a
    solver that misses it finds the question hard, not wrong. False for anything else (the answer is the
    model's word), and for rows without a document (image rows: their seed answers are not looked up)."""
    if not document or not seeds:
        return False
    choices = options(question)
    if choices:
        right, named = expected_option(question, seeds), option_answers(choices, seeds)
        return (
            right is not None
            and picked(answer, choices) == right
            and all(_in_document(a, document) for a in named or ())
        )
    named, want = difference_of(question, seeds), expected_difference(question, seeds)
    if named is None or want is None or not all(_in_document(a, document) for a in named):
        return False
    return wrong_difference(question, answer, seeds) is None
