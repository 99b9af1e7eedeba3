"""Model-free substance checks of a multi-hop reply against the seeds it was built from.

A reply that parses is half the job; these checks ask whether it is multi-hop at all:
- `not_a_question`: a statement ("In 2006, the delta caused a price of $200 million.") with no question
  mark and no question or task word up front;
- `copies_seed`: the question *is* one of its seed questions: a sentence or clause of it starts with a
  seed question (after normalising: "Q1? A: x", "Q1, and Q2?"), or most of its content words come from
  that one seed. A seed phrase inside a clause ("the person who measured on Monday") is how a bridge
  is hidden, not a copy;
- `copies_prompt`: the question talks about the task instead of the world ("the single-hop questions",
  "the document", "question 2"): a small model parrots the instructions;
- `single_seed`: the question and its reasoning draw on fewer than `min_seeds` seeds (a seed whose answer
  the question states is not drawn on: it needs no lookup);
- `wrong_answer`: a choice question over measured seeds ("Which is greater: A, or B?") whose answer
  names the option the seed answers make wrong, or a question that asks how far apart two measured
  seeds are whose answer does not state the difference they give;
- `states_answer`: the question states its own final answer, a bridge answer that should stay
  hidden (a seed answer that another seed's question is built on: "Who wrote X? -> Smith",
  "When was Smith born?" -> the multi-hop question must ask about "the author of X", not Smith), or
  the answers of two or more seeds ("How many years passed between 1994 and 1997?" needs no lookup).

The steps before it get the same kind of check, because no multi-hop question can be built on vague
material:
- `check_background`: a from-scratch background must hold concrete facts (`few_facts`: numbers and, in
  English, proper names) and no template filler (`placeholder`: "[Name]", "a named person");
- `check_seeds`: each seed must ask about one fact of the document (`vague`: "Which of the following
  statements is true?"), with a short answer (`long_answer`) found in it (`ungrounded`), and differ
  from the others (`duplicate`). Bad seeds are dropped; the reply is refused when fewer than two remain.

Each failure is a (code, message) pair; the code becomes the counted reason `<step>_<code>` and the
message is fed back to the model on the retry. English is compared by content words, Chinese by
character bigrams."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .text import CJK, offers_choice

_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")
_PROMPT_TALK = re.compile(
    r"single[- ]hop|multi[- ]hop|\b(?:the|this|given) (?:document|text|source|passage|background)\b|"
    r"\bquestions? \d\b|\bsub[- ]questions?\b|单跳|多跳|文档|文本|来源|问题\s*\d",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[?!.;:,。？！；：，、]|\b(?:and|then|also|furthermore|additionally)\b", re.IGNORECASE)
_ASKS = re.compile(  # a question mark, or a question or task word up front
    r"[?？]|^\W*(?:what|which|who|whom|whose|when|where|why|how|in what|in which|calculate|compute|find|"
    r"determine|estimate|explain|name|list|give|state)\b|什么|哪|谁|多少|几|吗|呢|为何|为什么|如何|怎样|求|计算",
    re.IGNORECASE,
)
_ANSWER_HEAD = re.compile(r"[.;:,!?。；：，！？\n]|\s(?:because|since|as|so)\s|因为|所以")

STOPWORDS = frozenset("""a an the of in on at to for from by with about into over after before during between and or but
    if then than that this these those is are was were be been being do does did has have had will would
    can could should may might must shall it its it's they them their there here what which who whom whose
    when where why how many much more most less least all any each every some no not only also very
    such as so both either neither one two first second he she his her we our you your i me my
    following given based total number""".split())
NEAR_COPY = 0.85  # character similarity of two normalised questions at which one copies the other
TRIVIAL_ANSWERS = frozenset({"yes", "no", "true", "false", "none", "是", "否", "对", "错"})


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, spaces folded; CJK characters stay (no spaces between them)."""
    return _SPACE.sub(" ", _NON_WORD.sub(" ", (text or "").lower())).strip()


def content_terms(text: str) -> Set[str]:
    """Content words (English: minus stop words and 1-letter tokens) plus CJK character bigrams."""
    norm = normalise(text)
    terms = {w for w in CJK.sub(" ", norm).split() if len(w) > 1 and w not in STOPWORDS}
    cjk = "".join(CJK.findall(norm))
    terms.update(cjk[i : i + 2] for i in range(len(cjk) - 1))
    return terms


def stem(word: str) -> str:
    """An English word with its plural or past ending cut ("years" -> "year", "started" -> "start",
    "cities" -> "city", "classes" -> "class"), then a final "e", so that "price", "prices" and "priced"
    meet at "pric"; a short word stays as it is."""
    base = word
    if not word.endswith("ss"):
        for end in ("ies", "ed", "es", "s"):
            if word.endswith(end) and len(word) - len(end) >= 3:
                base = word[: -len(end)] + ("y" if end == "ies" else "")
                break
    return base[:-1] if base.endswith("e") and len(base) >= 4 else base


def contains(haystack: str, needle: str) -> bool:
    """`needle` appears in `haystack` after normalising, on word boundaries (anywhere for CJK)."""
    n, h = normalise(needle), normalise(haystack)
    if not n:
        return False
    if CJK.search(n):
        return n.replace(" ", "") in h.replace(" ", "")
    # on word boundaries; a CJK character is one too ("1994年" holds 1994)
    return re.search(rf"(?<![a-z0-9_]){re.escape(n)}(?![a-z0-9_])", h) is not None


def opens_a_clause(question: str, seed_question: str) -> bool:
    """Some sentence or clause of `question` starts with `seed_question` (normalised)."""
    seed = normalise(seed_question)
    if not seed:
        return False
    if CJK.search(seed):
        seed = seed.replace(" ", "")
        return any(normalise(c).replace(" ", "").startswith(seed) for c in _CLAUSE.split(question))
    return any(f"{normalise(c)} ".startswith(f"{seed} ") for c in _CLAUSE.split(question))


def answer_core(answer: str) -> str:
    """The final answer without its justification: the text before the first sentence break or
    "because" ("48. Because 120 x 0.4 = 48" -> "48")."""
    m = _ANSWER_HEAD.search(answer or "")
    head = (answer[: m.start()] if m and m.start() > 0 else answer or "").strip()
    return head if len(head.split()) <= 8 else ""


def distinctive(answer: str) -> bool:
    """Long or specific enough that finding it in a question is not a coincidence."""
    n = normalise(answer)
    if not n or n in TRIVIAL_ANSWERS:
        return False
    if CJK.search(n):
        return len(n.replace(" ", "")) >= 2
    return any(c.isdigit() for c in n) or (len(n) >= 4 and bool(content_terms(n)))


@dataclass
class SubstanceThresholds:
    max_seed_overlap: float = 0.7  # a question whose content terms come from one seed at least this much copies it
    min_seeds: int = 2  # seeds the question and thinking must draw on
    seed_use_overlap: float = 0.4  # a seed is drawn on when this share of its question's terms appears


def seed_overlap(question: str, seed_question: str) -> float:
    """Share of the question's content terms found in one seed question."""
    q = content_terms(question)
    return len(q & content_terms(seed_question)) / len(q) if q else 1.0


def seeds_used(
    question: str, thinking: str, seeds: Sequence[Dict[str, str]], threshold: float, stated: Sequence[str] = ()
) -> int:
    """Seeds whose question terms (or whose answer) appear in the multi-hop question and its reasoning; the
    terms that three or more seeds all share (the topic: "river delta") are left out. A seed whose answer is
    in `stated` (the question gives it) needs no lookup and is not counted."""
    from .drafts import describe  # drafts builds on this module

    body = f"{question}\n{thinking}"
    terms = content_terms(body)
    own = [content_terms(s.get("question", "")) for s in seeds]
    # the words three or more seeds all share are their topic ("river delta") and name none of them; two
    # seeds' shared words are often the link between them (a Bridging chain's company)
    common = set.intersection(*own) if len(own) > 2 else set()
    used = 0
    for s, words in zip(seeds, own):
        ans = answer_core(s.get("answer", "")) or s.get("answer", "")
        if ans in stated:
            continue
        share = 0.0  # the seed question's words, or those of its phrase in a draft ("the case began")
        for st in (words, content_terms(describe(s.get("question", "")) or "")):
            st = st - common or st
            share = max(share, len(st & terms) / len(st) if st else 0.0)
        if share >= threshold or (distinctive(ans) and contains(body, ans)):
            used += 1
    return used


def bridge_pairs(seeds: Sequence[Dict[str, str]]) -> List[Dict[str, object]]:
    """(from, to, value) links of a chain: seed `from`'s answer `value` appears in seed `to`'s question
    (1-based). The prompt turns each into a rewrite hint; the check keeps `value` out of the question."""
    out = []
    for i, s in enumerate(seeds):
        ans = answer_core(s.get("answer", "")) or s.get("answer", "")
        if not distinctive(ans):
            continue
        for j, t in enumerate(seeds):
            if j != i and contains(t.get("question", ""), ans):
                out.append({"from": i + 1, "to": j + 1, "value": ans})
    return out


def bridge_answers(seeds: Sequence[Dict[str, str]]) -> List[str]:
    """Seed answers that another seed's question is built on: the hidden middle of a chain."""
    return list(dict.fromkeys(str(b["value"]) for b in bridge_pairs(seeds)))


def stated_seed_answers(question: str, seeds: Sequence[Dict[str, str]]) -> List[str]:
    """The seed answers a question states outright (distinctive ones that no seed question contains: those
    are bridges, or the seeds' own wording)."""
    out = []
    for s in seeds:
        ans = answer_core(s.get("answer", "")) or s.get("answer", "")
        if (
            distinctive(ans)
            and contains(question, ans)
            and not any(contains(t.get("question", ""), ans) for t in seeds)
        ):
            out.append(ans)
    return list(dict.fromkeys(out))


def near_copy(question: str, seed_question: str) -> bool:
    """The same question with a word or two changed ("the total rainfall for 1964" for "... 1963")."""
    return SequenceMatcher(None, normalise(question), normalise(seed_question)).ratio() >= NEAR_COPY


def copied_seed(question: str, seeds: Sequence[Dict[str, str]], limits: Optional[SubstanceThresholds] = None) -> int:
    """The 1-based number of the seed question that `question` copies, or 0."""
    from .drafts import difference_of  # drafts builds on this module

    limits = limits or SubstanceThresholds()
    # a choice between two seeds ("Which is greater: the X of A, or the X of B?") or their difference ("How
    # many years passed between A and B?") shares most words with each, so the overlap test is left to the
    # other questions
    pair = offers_choice(question) or difference_of(question, seeds) is not None
    for n, s in enumerate(seeds, 1):
        sq = s.get("question", "")
        overlap = not pair and seed_overlap(question, sq) >= limits.max_seed_overlap
        if normalise(sq) and (opens_a_clause(question, sq) or overlap or near_copy(question, sq)):
            return n
    return 0


# what a refused reply is told, per language (the retry feedback template wraps it)
REASONS = {
    "en": {
        "copies_seed": "the question repeats single-hop question {n} ({seed!r}); write a NEW question that needs "
        "several single-hop answers combined, and quote none of them",
        "not_a_question": "the question is a statement, not a question; ask a question whose answer needs several "
        "single-hop answers combined",
        "copies_prompt": "the question talks about the task ({talk!r}) instead of the facts; ask about the facts "
        "themselves, as a reader who never saw the single-hop questions would be asked",
        "states_answer": "the question states its own answer ({value!r}); the solver must work it out",
        "states_seeds": "the question states {values}, the answers of single-hop questions, so it needs none of "
        "them; describe each through its own single-hop question instead",
        "states_bridge": "the question names {value!r}, the intermediate answer a solver must find; describe it "
        "through the other facts instead",
        "single_seed": "the question draws on {used} of the {total} single-hop questions; it must need at least "
        "{need} of them, one answer feeding the next",
        "wrong_answer": "the single-hop answers make {right!r} the right option, but the answer names the other one",
        "wrong_difference": "the single-hop answers differ by {want}, but the answer does not say {want}",
        "leaves_draft": "the question leaves the suggested question ({draft!r}), so its answer cannot be worked out "
        "from the single-hop answers; ask the suggested question, or reword it keeping both parts, and answer "
        "{answer!r}",
    },
    "zh": {
        "copies_seed": "这个问题重复了第{n}个单跳问题（{seed!r}）；请写一个新问题，它必须把几个单跳答案组合起来才能回答，"
        "并且不引用其中任何一个",
        "not_a_question": "这不是一个问题，而是一个陈述；请提出一个需要把几个单跳答案组合起来才能回答的问题",
        "copies_prompt": "这个问题在谈论任务本身（{talk!r}），而不是事实；请直接就事实提问，就像问一位从未见过这些单跳问题的读者",
        "states_answer": "这个问题说出了它自己的答案（{value!r}）；答案必须由解题者推出",
        "states_seeds": "这个问题直接写出了{values}，这些是单跳问题的答案，所以它一个单跳问题也用不上；请改用对应的单跳问题来描述",
        "states_bridge": "这个问题直接写出了{value!r}，这是解题者必须求出的中间答案；请改用其他事实来描述它",
        "single_seed": "这个问题只用到了{total}个单跳问题中的{used}个；它至少要用到{need}个，前一个答案引出下一个",
        "wrong_answer": "根据单跳问题的答案，正确的选项是{right!r}，但答案选了另一个",
        "wrong_difference": "根据单跳问题的答案，两者相差{want}，但答案没有给出{want}",
        "leaves_draft": "这个问题偏离了建议的问题（{draft!r}），它的答案无法由单跳答案推出；请使用建议的问题，或在保留两部分的前提下改写，"
        "并回答{answer!r}",
    },
}


def check_multihop(
    question: str,
    answer: str,
    thinking: str,
    seeds: Sequence[Dict[str, str]],
    limits: Optional[SubstanceThresholds] = None,
    language: str = "en",
) -> Optional[Tuple[str, str]]:
    """(code, message) for the first substance failure of a multi-hop reply, or None when it is real; the
    message, in `language`, tells the model what to fix."""
    limits = limits or SubstanceThresholds()
    say = REASONS[language]
    if not _ASKS.search(question or ""):
        return "not_a_question", say["not_a_question"]
    n = copied_seed(question, seeds, limits)
    if n:
        return "copies_seed", say["copies_seed"].format(n=n, seed=seeds[n - 1].get("question", "")[:80])
    talk = _PROMPT_TALK.search(question)
    if talk:
        return "copies_prompt", say["copies_prompt"].format(talk=talk.group(0))
    core = answer_core(answer)
    if core and distinctive(core) and contains(question, core) and not offers_choice(question):
        return "states_answer", say["states_answer"].format(value=core[:60])
    for hidden in bridge_answers(seeds):
        if contains(question, hidden):
            return "states_answer", say["states_bridge"].format(value=hidden[:60])
    given = stated_seed_answers(question, seeds)
    if len(given) >= 2:  # every lookup handed over: "How many years passed between 1994 and 1997?"
        return "states_answer", say["states_seeds"].format(values=", ".join(repr(v[:40]) for v in given[:3]))
    # a seed whose answer the question states needs no lookup: it is not drawn on ("How long after the delta
    # formed in 1970 ...?" for "What year did the delta form?" -> 1970)
    used = seeds_used(question, thinking, seeds, limits.seed_use_overlap, stated=given)
    need = min(limits.min_seeds, len(seeds))
    if used < need:
        return "single_seed", say["single_seed"].format(used=used, total=len(seeds), need=need)
    from .drafts import wrong_choice, wrong_difference  # drafts builds on this module

    right = wrong_choice(question, answer, seeds)
    if right is not None:
        return "wrong_answer", say["wrong_answer"].format(right=right[:80])
    want = wrong_difference(question, answer, seeds)
    if want is not None:
        return "wrong_answer", say["wrong_difference"].format(want=f"{want:g}")
    return None


# ---- the material the multi-hop step is built from: backgrounds and seeds

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[一二三四五六七八九十两百千万]+(?=[年月日天个位名元次座条家人吨米])")
_NAME = re.compile(r"(?<=[a-z0-9,;)] )[A-Z][a-z]+")  # a capitalised word that does not open a sentence
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
        "long_answer": "answer {n} is not a short fact",
        "ungrounded": "answer {n} is not in the document",
        "in_question": "question {n} contains its own answer",
        "duplicate": "question {n} repeats question {m}",
    },
    "zh": {
        "placeholder": "其中有模板占位内容（{found!r}），而不是编写的细节；请给每个人物和地点起一个具体的名字",
        "few_facts": "其中只有{numbers}个数字；至少需要{min_numbers}个数字（数量、金额、年份）",
        "seeds": "{total}个问题中只有{kept}个可用（{why}）；请写2到{max_seeds}个问题，每个问题只问文档中的一个具体事实"
        "（人名、数字、日期或地点），答案是从文档中摘出的几个字",
        "vague": "第{n}个问题问的是文本本身而不是事实",
        "long_answer": "第{n}个答案不是一个简短的事实",
        "ungrounded": "第{n}个答案在文档中找不到",
        "in_question": "第{n}个问题本身就包含了答案",
        "duplicate": "第{n}个问题重复了第{m}个问题",
    },
}


def check_background(text: str, language: str = "en") -> Optional[Tuple[str, str]]:
    """(code, message) when a written background is too vague to build questions on, else None."""
    say = MATERIAL_REASONS[language]
    filler = _PLACEHOLDER.search(text or "")
    if filler:
        return "placeholder", say["placeholder"].format(found=filler.group(0))
    numbers = len(set(_NUMBER.findall(text or "")))
    names = len(set(_NAME.findall(text or ""))) if language == "en" else MIN_NAMES
    if numbers < MIN_NUMBERS or names < MIN_NAMES:
        args = dict(numbers=numbers, names=names, min_numbers=MIN_NUMBERS, min_names=MIN_NAMES)
        return "few_facts", say["few_facts"].format(**args)
    return None


def seed_problem(seed: Dict[str, str], earlier: Sequence[Dict[str, str]], document: str) -> Optional[Tuple[str, int]]:
    """Why one seed is unusable, as (code, the 1-based number of the seed it repeats or 0), or None.
    `document` is the text the answer must come from ("" skips the text-only checks: image rows)."""
    question, answer = seed.get("question", ""), seed.get("answer", "")
    if document and _VAGUE_SEED.search(question):
        return "vague", 0
    if CJK.search(answer):
        too_long = len(CJK.findall(answer)) > MAX_ANSWER_CHARS_ZH
    else:
        too_long = len(answer.split()) > MAX_ANSWER_WORDS
    if too_long:
        return "long_answer", 0
    core = answer_core(answer) or answer
    if distinctive(core) and contains(question, core):
        return "in_question", 0
    if document:  # a word of the answer is in the document ("Thursday" in "met on Thursdays")
        stem = lambda terms: {t[:-1] if t.endswith("s") and len(t) > 3 else t for t in terms}  # noqa: E731
        terms = stem(content_terms(answer)) | set(_NUMBER.findall(answer))
        if not contains(document, answer) and not terms & (
            stem(content_terms(document)) | set(_NUMBER.findall(document))
        ):
            return "ungrounded", 0
    # the same question, or two questions with one answer; a Comparison pair ("the temperature Ann
    # recorded", "the temperature Bo recorded") shares most words but asks about different items
    q = content_terms(question)
    for m, other in enumerate(earlier, 1):
        same_answer = normalise(answer) and normalise(answer) == normalise(other.get("answer", ""))
        if same_answer or q == content_terms(other.get("question", "")):
            return "duplicate", m
    return None


def check_seeds(
    seeds: Sequence[Dict[str, str]], document: str, language: str = "en", max_seeds: int = 5
) -> Tuple[List[Dict[str, str]], Dict[str, int], Optional[Tuple[str, str]]]:
    """The usable seeds, the count of dropped ones by reason, and (code, message) when fewer than two
    remain (the code is the most common reason)."""
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


# ---- a judge's list of solving steps

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


def not_steps(steps: Sequence[str], question: str, answer: str, language: str = "en") -> Optional[Tuple[str, str]]:
    """(code, message) when a judge's list of solving steps is not one: a step that repeats the whole question,
    or steps that only state the answer or a part of it; else None."""
    say = STEP_REASONS[language]
    q = normalise(question)
    for n, step in enumerate(steps, 1):
        s = normalise(step)
        if q and s and (q in s or near_copy(step, question)):
            return "copies_question", say["copies_question"].format(n=n)
    core = answer_core(answer) or answer
    if normalise(core) and all(contains(core, s) for s in steps):  # "102 years", or "102", for "102 years"
        return "gives_answer", say["gives_answer"].format(answer=core[:60])
    return None
