"""Model-free substance checks of a multi-hop reply against the seeds it was built from.

A reply that parses is half the job; these checks ask whether it is multi-hop at all:
- `copies_seed`: the question *is* one of its seed questions: a sentence or clause of it starts with a
  seed question (after normalising: "Q1? A: x", "Q1, and Q2?"), or most of its content words come from
  that one seed. A seed phrase inside a clause ("the person who measured on Monday") is how a bridge
  is hidden, not a copy;
- `copies_prompt`: the question talks about the task instead of the world ("the single-hop questions",
  "the document", "question 2"): a small model parrots the instructions;
- `single_seed`: the question and its reasoning draw on fewer than `min_seeds` seeds;
- `states_answer`: the question states its own final answer, or a bridge answer that should stay
  hidden (a seed answer that another seed's question is built on: "Who wrote X? -> Smith",
  "When was Smith born?" -> the multi-hop question must ask about "the author of X", not Smith).

Each failure is a (code, message) pair; the code becomes the counted reason `multihop_<code>` and the
message is fed back to the model on the retry. English is compared by content words, Chinese by
character bigrams."""

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .text import CJK

_NON_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")
_PROMPT_TALK = re.compile(
    r"single[- ]hop|multi[- ]hop|\b(?:the|this|given) (?:document|text|source|passage|background)\b|"
    r"\bquestions? \d\b|\bsub[- ]questions?\b|单跳|多跳|文档|文本|来源|问题\s*\d",
    re.IGNORECASE,
)
_CLAUSE = re.compile(r"[?!.;:,。？！；：，、]|\b(?:and|then|also|furthermore|additionally)\b", re.IGNORECASE)
_ANSWER_HEAD = re.compile(r"[.;:,!?。；：，！？\n]|\s(?:because|since|as|so)\s|因为|所以")

STOPWORDS = frozenset("""a an the of in on at to for from by with about into over after before during between and or but
    if then than that this these those is are was were be been being do does did has have had will would
    can could should may might must shall it its it's they them their there here what which who whom whose
    when where why how many much more most less least all any each every some no not only also very
    such as so both either neither one two first second he she his her we our you your i me my
    following given based total number""".split())
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


def contains(haystack: str, needle: str) -> bool:
    """`needle` appears in `haystack` after normalising, on word boundaries (anywhere for CJK)."""
    n, h = normalise(needle), normalise(haystack)
    if not n:
        return False
    if CJK.search(n):
        return n.replace(" ", "") in h.replace(" ", "")
    return f" {n} " in f" {h} "


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


def seeds_used(question: str, thinking: str, seeds: Sequence[Dict[str, str]], threshold: float) -> int:
    """Seeds whose question terms (or whose answer) appear in the multi-hop question and its reasoning."""
    body = f"{question}\n{thinking}"
    terms = content_terms(body)
    used = 0
    for s in seeds:
        st = content_terms(s.get("question", ""))
        share = len(st & terms) / len(st) if st else 0.0
        ans = answer_core(s.get("answer", "")) or s.get("answer", "")
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


def copied_seed(question: str, seeds: Sequence[Dict[str, str]], limits: Optional[SubstanceThresholds] = None) -> int:
    """The 1-based number of the seed question that `question` copies, or 0."""
    limits = limits or SubstanceThresholds()
    for n, s in enumerate(seeds, 1):
        sq = s.get("question", "")
        if normalise(sq) and (opens_a_clause(question, sq) or seed_overlap(question, sq) >= limits.max_seed_overlap):
            return n
    return 0


# what a refused reply is told, per language (the retry feedback template wraps it)
REASONS = {
    "en": {
        "copies_seed": "the question repeats single-hop question {n} ({seed!r}); write a NEW question that needs "
        "several single-hop answers combined, and quote none of them",
        "copies_prompt": "the question talks about the task ({talk!r}) instead of the facts; ask about the facts "
        "themselves, as a reader who never saw the single-hop questions would be asked",
        "states_answer": "the question states its own answer ({value!r}); the solver must work it out",
        "states_bridge": "the question names {value!r}, the intermediate answer a solver must find; describe it "
        "through the other facts instead",
        "single_seed": "the question draws on {used} of the {total} single-hop questions; it must need at least "
        "{need} of them, one answer feeding the next",
    },
    "zh": {
        "copies_seed": "这个问题重复了第{n}个单跳问题（{seed!r}）；请写一个新问题，它必须把几个单跳答案组合起来才能回答，"
        "并且不引用其中任何一个",
        "copies_prompt": "这个问题在谈论任务本身（{talk!r}），而不是事实；请直接就事实提问，就像问一位从未见过这些单跳问题的读者",
        "states_answer": "这个问题说出了它自己的答案（{value!r}）；答案必须由解题者推出",
        "states_bridge": "这个问题直接写出了{value!r}，这是解题者必须求出的中间答案；请改用其他事实来描述它",
        "single_seed": "这个问题只用到了{total}个单跳问题中的{used}个；它至少要用到{need}个，前一个答案引出下一个",
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
    n = copied_seed(question, seeds, limits)
    if n:
        return "copies_seed", say["copies_seed"].format(n=n, seed=seeds[n - 1].get("question", "")[:80])
    talk = _PROMPT_TALK.search(question)
    if talk:
        return "copies_prompt", say["copies_prompt"].format(talk=talk.group(0))
    core = answer_core(answer)
    if core and distinctive(core) and contains(question, core):
        return "states_answer", say["states_answer"].format(value=core[:60])
    for hidden in bridge_answers(seeds):
        if contains(question, hidden):
            return "states_answer", say["states_bridge"].format(value=hidden[:60])
    used = seeds_used(question, thinking, seeds, limits.seed_use_overlap)
    need = min(limits.min_seeds, len(seeds))
    if used < need:
        return "single_seed", say["single_seed"].format(used=used, total=len(seeds), need=need)
    return None
