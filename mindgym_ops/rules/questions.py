"""Questions, per language: what a question asks and how it is built.

Whether a text asks at all, talks about the task instead of the facts, opens a clause with another question or
copies it; whether it offers a choice, its options and which option a text names; whether it asks how far apart
two things are; and what a seed question asks about, as a phrase a draft question can be built from ("In which
year did the case begin?" -> "the case began"; "案件是哪一年开始的？" -> "案件开始")."""

import re
from difflib import SequenceMatcher
from typing import List, Optional, Tuple

from .words import CJK, CJK_CHAR, VERB_PAST, normalise, stem, terms, words

NEAR_COPY = 0.85  # character similarity of two normalised questions at which one copies the other
_ASKS = re.compile(  # a question mark, or a question or task word up front
    r"[?？]|^\W*(?:what|which|who|whom|whose|when|where|why|how|in what|in which|calculate|compute|find|"
    r"determine|estimate|explain|name|list|give|state)\b|什么|哪|谁|多少|几|吗|呢|为何|为什么|如何|怎样|求|计算",
    re.IGNORECASE,
)
_TASK_TALK = re.compile(
    r"single[- ]hop|multi[- ]hop|\b(?:the|this|given) (?:document|text|source|passage|background)\b|"
    r"\bquestions? \d\b|\bsub[- ]questions?\b|单跳|多跳|文档|文本|来源|问题\s*\d",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[?!.;:,。？！；：，、]|\b(?:and|then|also|furthermore|additionally)\b", re.IGNORECASE)
_CHOICE = re.compile(
    r"\b(?:which|whether|who|what (?:happened|came|was|is))\b[^?]*(?:\?[^?]*)?\bor\b|哪[^？?]*还是|还是[^？?]*哪",
    re.IGNORECASE,
)
_DIFFERENCE = re.compile(
    r"\bhow many years\b|\bhow (?:much|long) (?:time|later|earlier)\b|\bdifference between\b|"
    r"\bhow (?:much|many) (?:more|less|fewer|greater|larger|smaller)\b|"
    r"多少年|几年|相隔|相差|差多少|多出多少|多了多少|少了多少|过了多少|之间.*多少",
    re.IGNORECASE,
)
_IN_YEARS = re.compile(r"\byears?\b|\btime\b|\blong\b|\blater\b|\bearlier\b|年", re.IGNORECASE)
# the words that say which option of a choice is right: the greater value (max) or the smaller (min)
ORDER = {
    "greater": max, "larger": max, "more": max, "higher": max, "later": max, "last": max,
    "smaller": min, "less": min, "fewer": min, "lower": min, "earlier": min, "first": min,
    "更大": max, "更多": max, "更高": max, "更长": max, "更晚": max, "最晚": max, "较大": max, "较多": max,
    "更小": min, "更少": min, "更低": min, "更短": min, "更早": min, "最早": min, "较小": min, "较少": min,
}  # fmt: skip
_TEMPORAL_ORDER = ("earlier", "later", "first", "last", "更晚", "最晚", "更早", "最早")


def asks(question: str) -> bool:
    """A question mark, or a question or task word up front ("In 2006, the delta caused a price of $200 million."
    asks nothing)."""
    return bool(_ASKS.search(question or ""))


def task_talk(question: str) -> Optional[str]:
    """The words of a question that talk about the task instead of the facts ("the single-hop questions", "the
    document"), or None."""
    found = _TASK_TALK.search(question or "")
    return found.group(0) if found else None


def opens_a_clause(question: str, seed_question: str) -> bool:
    """Some sentence or clause of `question` starts with `seed_question` (normalised)."""
    seed = normalise(seed_question)
    if not seed:
        return False
    if CJK.search(seed):
        seed = seed.replace(" ", "")
        return any(normalise(c).replace(" ", "").startswith(seed) for c in _CLAUSE.split(question))
    return any(f"{normalise(c)} ".startswith(f"{seed} ") for c in _CLAUSE.split(question))


def near_copy(question: str, other: str) -> bool:
    """The same question with a word or two changed ("the total rainfall for 1964" for "... 1963")."""
    return SequenceMatcher(None, normalise(question), normalise(other)).ratio() >= NEAR_COPY


def overlap(question: str, other: str) -> float:
    """Share of the question's content words found in another question."""
    own = terms(question)
    return len(own & terms(other)) / len(own) if own else 1.0


# ---- choices


def offers_choice(question: str) -> bool:
    """A choice question ("Which happened earlier: A, or B?", "哪个更大：A，还是B？") names its answer among its
    options; that is not stating it."""
    return bool(_CHOICE.search(question or ""))


def options(question: str) -> List[str]:
    """The options of a choice question ("Which is greater: A, or B?" / "Which came first, A or B?" / "哪个更大：
    A，还是B？")."""
    if not offers_choice(question):
        return []
    inner = question.rstrip(" ?？")
    sep = next((c for c in (":", "：", "?", "？", ",", "，") if c in inner), None)
    body = inner.split(sep, 1)[1] if sep else inner
    found = [o.strip(" ,.?？，。") for o in re.split(r",?\s+or\s+|，?\s*还是", body)]
    return found if len(found) >= 2 and all(found) else []


def order_word(question: str) -> Optional[str]:
    """The word of a choice question that says which option is right ("greater", "earlier", "更早"), or None."""
    for w in words(question):
        if w in ORDER:
            return w
    found = [w for w in ORDER if CJK.search(w) and w in (question or "")]
    return found[0] if found else None


def asks_which_came_first(word: str) -> bool:
    return word in _TEMPORAL_ORDER


_TERM = re.compile(rf"\d+(?:\.\d+)?|{CJK_CHAR}+|(?:(?!{CJK_CHAR})[^\W\d_])+")


def option_terms(text: str):
    """(offset, term) for what can tell options apart in `text`: each content word, stemmed ("years" is "year"),
    each number, however short ("5"), and each Chinese word (jieba)."""
    flat = re.sub(r"(?<=\d),(?=\d{3})", "", (text or "").lower())
    for m in _TERM.finditer(flat):
        tok, at = m.group(), m.start()
        if CJK.match(tok):
            for w in words(tok):
                if w in terms(w):
                    yield at, w
                at += len(w)
        elif tok[0].isdigit():
            yield at, tok
        elif terms(tok):
            yield at, stem(tok)


def _around(found: List[Tuple[int, str]], k: int) -> Tuple[Optional[str], Optional[str]]:
    """The terms just before and after the k-th (None at either end)."""
    return (found[k - 1][1] if k else None), (found[k + 1][1] if k + 1 < len(found) else None)


def _word(term: Optional[str]) -> bool:
    return term is not None and not term[0].isdigit()


def _counts(option: Tuple[Optional[str], Optional[str]], text: Tuple[Optional[str], Optional[str]]) -> bool:
    """Whether a number of an option, with the terms `option` around it there, names it where it stands in a text
    with the terms `text` around it: beside its unit ("5 years"), or its label ("Phase 2") unless it counts
    something else there ("1 year longer")."""
    (before, after), (t_before, t_after) = option, text
    if _word(after):
        return t_after == after
    if _word(before):
        return t_before == before or not _word(t_after)
    return True


def picked(text: str, choices: List[str]) -> Optional[int]:
    """Which option `text` names: by the terms that set each option apart from the others ("5" for "the population
    over the past 5 years" against "... the past 1 year": "years" sets nothing apart, so "59 years" names
    neither); when it names several ("A is greater than B"), the one it names first. None when it names none. A
    number names an option only where it stands as it does there (`_counts`): in "growth was 1% higher over the
    past 5 years" the 1 is a value, not the option "the past 1 year"."""
    listed = [list(option_terms(c)) for c in choices]
    own = [{t for _, t in terms_} for terms_ in listed]
    found = list(option_terms(text))
    stands = [_around(found, k) for k in range(len(found))]
    first = {}
    for i, mine in enumerate(own):
        distinct = mine - set().union(*(t for j, t in enumerate(own) if j != i))
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


# ---- differences


def asks_difference(question: str) -> bool:
    """Whether a question asks how far apart two things are ("How many years passed between ...?", "What is the
    difference between ...?", "……相隔多少年？"), and is not a choice."""
    return bool(_DIFFERENCE.search(question or "")) and not offers_choice(question)


def in_years(question: str) -> bool:
    """Whether a question measures its difference in time ("years", "how long", 年)."""
    return bool(_IN_YEARS.search(question or ""))


# ---- what a seed question asks about

EVENT_VERBS = frozenset(VERB_PAST) | frozenset(
    """start end open close found record count measure arrive join sign launch publish release finish complete
    occur happen receive reach hire elect move discover invent establish create increase decrease report collect
    observe treat admit visit return announce approve decide sink flood die retire marry graduate plant harvest
    produce earn raise cut fix repair install order ship deliver rent lend borrow save invest change replace
    appoint""".split()
)
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
# "案件是哪一年开始的" / "气象站在哪一年建成" / "医院是什么时候开业的" -> "案件开始", "气象站建成", "医院开业"
_ZH_WHEN = re.compile(r"^(.+?)(?:是|在|于)?(?:哪一年|哪年|什么时候|何时|哪一天|哪个月|哪一月)(?:在|于)?(.+?)的?$")
# "2000年学校的支出是多少" / "河口有多少人口" -> "2000年学校的支出", "河口的人口"
_ZH_HOW_MUCH = re.compile(r"^(.+?)(?:是|为|有|共有|一共有)?多少(?:[个位名人元次座条家吨米件辆台本间所])?(.*)$")


def past(verb: str) -> str:
    """The simple past of an English verb ("begin" -> "began", "record" -> "recorded")."""
    v = verb.lower()
    if v in VERB_PAST:
        return VERB_PAST[v]
    if v.endswith("e"):
        return v + "d"
    if re.search(r"[^aeiou]y$", v):
        return v[:-1] + "ied"
    return v + "ed"


def _subject_verb(clause: str) -> Optional[str]:
    """'the case begin in 1994' -> 'the case began in 1994': the first event verb after the subject (at most five
    words) goes to the past; None when no known verb is found there."""
    ws = clause.split()
    for i in range(1, min(6, len(ws))):
        if ws[i] in EVENT_VERBS:
            return " ".join(ws[:i] + [past(ws[i])] + ws[i + 1 :])
    return None


def describe(question: str) -> Tuple[Optional[str], bool]:
    """What a seed question asks about, as a phrase that fits "Which is greater: X or Y?" (a noun phrase: "the
    total rainfall for 1963", "2000年学校的支出") or "Which happened earlier: X or Y?" (also an event: "the case
    began", "案件开始"), and whether it is an event; (None, False) when no rule fits."""
    q = (question or "").strip().rstrip("?？").strip()
    if CJK.search(q):
        return _describe_zh(q)
    q = q[0].lower() + q[1:] if q else q
    for pattern, kind in _RULES:
        m = pattern.match(q)
        if not m:
            continue
        if kind == "did":
            return _subject_verb(m.group(1) or m.group(2)), True
        if kind == "was":
            aux, rest = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            ws = rest.split()
            for i in range(1, len(ws)):  # "the breakwater built in Kessa" -> "the breakwater was built in Kessa"
                if ws[i].endswith("ed") or ws[i] in VERB_PAST.values():
                    return " ".join(ws[:i] + [aux] + ws[i:]), True
            return rest, False  # a noun phrase: "the event in 2000"
        if kind == "what":
            return m.group(1), False
        amount = "number" if m.group(1) == "many" else "amount"
        if kind == "how_did":
            rest = _subject_verb(m.group(3))
            return (f"the {amount} of {m.group(2)} {rest}" if rest else None), False
        return f"the {amount} of {m.group(2)} {m.group(3)}", False  # how_was
    return None, False


def _describe_zh(q: str) -> Tuple[Optional[str], bool]:
    m = _ZH_WHEN.match(q)
    if m and m.group(2):
        subject = re.sub(r"(?:是|在|于)$", "", m.group(1))
        return (subject + m.group(2)) if subject else None, True
    m = _ZH_HOW_MUCH.match(q)
    if m and m.group(1):
        subject = re.sub(r"(?:是|为|有|了)$", "", m.group(1))
        rest = m.group(2).strip("的")
        return (f"{subject}的{rest}" if rest and not subject.endswith(rest) else subject), False
    return None, False
