"""Is the material usable? The checks of what the multi-hop step is built from, and of a judge's list of steps:
- `check_background`: a from-scratch background must hold concrete facts (`few_facts`: numbers and proper names:
  capitalised words in English, person and place names that jieba tags in Chinese) and no template filler
  (`placeholder`: "[Name]", "a named person", "某某");
- `check_seeds`: each seed must ask (`not_a_question`) about one fact of the document (`vague`: "Which of the
  following statements is true?", "以下哪项"), with a short answer (`long_answer`) found in it (`ungrounded`), and
  differ from the others (`duplicate`). Bad seeds are dropped; the reply is refused when fewer than two remain;
- `not_steps`: a depth judge's list of steps that is not one (a step that copies the question; steps that only
  give the answer)."""

import re
from typing import Dict, List, Optional, Sequence, Tuple

from .questions import asks, near_copy
from .words import CJK, answer_head, contains, distinctive, normalise, numbers, terms

_NAME = re.compile(r"(?<=[a-z0-9,;)] )[A-Z][a-z]+")  # a capitalised word that does not open a sentence
# jieba's person (nr; nrt transliterated, nrfg), place, organisation and other proper names, by their tag's head
_ZH_NAME_TAGS = ("nr", "ns", "nt", "nz")
_PLACEHOLDER = re.compile(
    r"\[[^\]\n]{1,40}\]|\b(?:a|the) named (?:person|place|founder|leader)\b|\bnamed an? \w+\b,|\bXYZ\b|某某|[Xx]{3}"
)
_VAGUE_SEED = re.compile(
    r"\bwhich of the following\b|\bthe following (?:statements?|facts?|options?|is)\b|"
    r"\b(?:the|this|given) (?:text|document|passage|background|report|article)\b|"
    r"\b(?:numbers?|facts?|figures?|details?) above\b|以下|下列|文中|文本|文档|材料中|上述",
    re.IGNORECASE,
)
MIN_NUMBERS, MIN_NAMES = 3, 2
MAX_ANSWER_WORDS, MAX_ANSWER_CHARS_ZH = 8, 20

MATERIAL_REASONS = {
    "en": {
        "placeholder": "it contains template filler ({found!r}) instead of invented details; give every person and "
        "place a real-sounding name",
        "few_facts": "it holds {numbers} number(s) and {names} proper name(s); it needs at least {min_numbers} "
        "numbers (amounts, counts, years) and {min_names} named people or places",
        "seeds": "only {kept} of the {total} questions are usable ({why}); write 2 to {max_seeds} questions, each "
        "about one specific fact of the document (a name, a number, a date or a place), each answered by a "
        "few words copied from the document",
        "vague": "question {n} asks about the text, not a fact",
        "not_a_question": "question {n} is a statement, not a question",
        "long_answer": "answer {n} is not a short fact",
        "ungrounded": "answer {n} is not in the document",
        "in_question": "question {n} contains its own answer",
        "duplicate": "question {n} repeats question {m}",
    },
    "zh": {
        "placeholder": "其中有模板占位内容（{found!r}），而不是编写的细节；请给每个人物和地点起一个具体的名字",
        "few_facts": "其中只有{numbers}个数字和{names}个人名或地名；至少需要{min_numbers}个数字（数量、金额、年份）和"
        "{min_names}个具体的人名或地名",
        "seeds": "{total}个问题中只有{kept}个可用（{why}）；请写2到{max_seeds}个问题，每个问题只问文档中的一个具体事实"
        "（人名、数字、日期或地点），答案是从文档中摘出的几个字",
        "vague": "第{n}个问题问的是文本本身而不是事实",
        "not_a_question": "第{n}个问题是一个陈述，不是问题",
        "long_answer": "第{n}个答案不是一个简短的事实",
        "ungrounded": "第{n}个答案在文档中找不到",
        "in_question": "第{n}个问题本身就包含了答案",
        "duplicate": "第{n}个问题重复了第{m}个问题",
    },
}
STEP_REASONS = {
    "en": {
        "copies_question": "step {n} repeats the question; list what a solver does to answer it, one fact to recall "
        "or one value to compute per step",
        "gives_answer": "the steps only give the answer ({answer!r}); list what a solver does to reach it, one "
        "fact to recall or one value to compute per step",
    },
    "zh": {
        "copies_question": "第{n}步重复了问题本身；请列出解题者为回答它要做的事，每步回忆一个事实或计算一个数值",
        "gives_answer": "这些步骤只给出了答案（{answer!r}）；请列出得到它要做的事，每步回忆一个事实或计算一个数值",
    },
}


def proper_names(text: str) -> set:
    """The proper names of a text: capitalised words that do not open a sentence (English), words jieba tags as
    person, place or organisation names (Chinese)."""
    if not CJK.search(text or ""):
        return set(_NAME.findall(text or ""))
    import jieba.posseg  # part of jieba, which `words` loads; its tagger is only needed here

    return {w.word for w in jieba.posseg.lcut(text) if w.flag[:2] in _ZH_NAME_TAGS and len(w.word) > 1}


def check_background(text: str, language: str = "en") -> Optional[Tuple[str, str]]:
    """(code, message) when a written background is too vague to build questions on, else None."""
    say = MATERIAL_REASONS[language]
    filler = _PLACEHOLDER.search(text or "")
    if filler:
        return "placeholder", say["placeholder"].format(found=filler.group(0))
    found, names = len(set(numbers(text))), len(proper_names(text))
    if found < MIN_NUMBERS or names < MIN_NAMES:
        args = dict(numbers=found, names=names, min_numbers=MIN_NUMBERS, min_names=MIN_NAMES)
        return "few_facts", say["few_facts"].format(**args)
    return None


def grounded(answer: str, document: str) -> bool:
    """A seed answer is found in the document: whole, or by one of its content words or numbers ("Thursday" in
    "met on Thursdays")."""
    if contains(document, answer):
        return True
    own = terms(answer, stemmed=True) | {str(n) for n in numbers(answer)}
    there = terms(document, stemmed=True) | {str(n) for n in numbers(document)}
    return bool(own & there)


def seed_problem(seed: Dict[str, str], earlier: Sequence[Dict[str, str]], document: str) -> Optional[Tuple[str, int]]:
    """Why one seed is unusable, as (code, the 1-based number of the seed it repeats or 0), or None. `document` is
    the text the answer must come from ("" skips the text-only checks: image rows)."""
    question, answer = seed.get("question", ""), seed.get("answer", "")
    if document and _VAGUE_SEED.search(question):
        return "vague", 0
    if document and not asks(
        question
    ):  # "李女士记录下一个数量或金额：1.5万元。" (the 0.5B, copying its report's slots)
        return "not_a_question", 0
    too_long = (
        len(CJK.findall(answer)) > MAX_ANSWER_CHARS_ZH if CJK.search(answer) else len(answer.split()) > MAX_ANSWER_WORDS
    )
    if too_long:
        return "long_answer", 0
    head = answer_head(answer) or answer
    if distinctive(head) and contains(question, head):
        return "in_question", 0
    if document and not grounded(answer, document):
        return "ungrounded", 0
    # the same question, or two questions with one answer; a Comparison pair ("the temperature Ann recorded", "the
    # temperature Bo recorded") shares most words but asks about different items
    own = terms(question)
    for m, other in enumerate(earlier, 1):
        same_answer = normalise(answer) and normalise(answer) == normalise(other.get("answer", ""))
        if same_answer or own == terms(other.get("question", "")):
            return "duplicate", m
    return None


def check_seeds(
    seeds: Sequence[Dict[str, str]], document: str, language: str = "en", max_seeds: int = 5
) -> Tuple[List[Dict[str, str]], Dict[str, int], Optional[Tuple[str, str]]]:
    """The usable seeds, the count of dropped ones by reason, and (code, message) when fewer than two remain (the
    code is the most common reason)."""
    say = MATERIAL_REASONS[language]
    kept: List[Dict[str, str]] = []
    dropped: Dict[str, int] = {}
    why: List[str] = []
    for n, seed in enumerate(seeds, 1):
        problem = seed_problem(seed, seeds[: n - 1], document)
        if problem is None:
            kept.append(seed)
            continue
        code, m = problem
        dropped[code] = dropped.get(code, 0) + 1
        why.append(say[code].format(n=n, m=m))
    if len(kept) >= 2:
        return kept, dropped, None
    code = max(dropped, key=dropped.get) if dropped else "duplicate"
    sep = "; " if language == "en" else "；"
    message = say["seeds"].format(kept=len(kept), total=len(seeds), why=sep.join(why), max_seeds=max_seeds)
    return kept, dropped, (f"seeds_{code}", message)


def not_steps(steps: Sequence[str], question: str, answer: str, language: str = "en") -> Optional[Tuple[str, str]]:
    """(code, message) when a judge's list of solving steps is not one: a step that repeats the whole question, or
    steps that only state the answer or a part of it; else None."""
    say = STEP_REASONS[language]
    q = normalise(question)
    for n, step in enumerate(steps, 1):
        s = normalise(step)
        if q and s and (q in s or near_copy(step, question)):
            return "copies_question", say["copies_question"].format(n=n)
    head = answer_head(answer) or answer
    if normalise(head) and all(contains(head, s) for s in steps):  # "102 years", or "102", for "102 years"
        return "gives_answer", say["gives_answer"].format(answer=head[:60])
    return None
