"""Is a multi-hop reply multi-hop? Model-free checks of a reply against the seeds it was built from, in English and
Chinese:
- `not_a_question`: a statement ("In 2006, the delta caused a price of $200 million.");
- `copies_seed`: the question *is* one of its seed questions: a clause of it starts with one ("Q1? A: x", "Q1, and
  Q2?"), it holds a whole Chinese seed ("李女士记录下……1.5万元。第二……2.7亿元。": two seeds one after the other), most of its
  content words come from that one seed, or it is a seed with a word or two changed;
- `copies_prompt`: it talks about the task instead of the world ("the single-hop questions", "文档");
- `states_answer`: it states its own answer, a bridge answer that should stay hidden, or the answers of two or more
  seeds ("How many years passed between 1994 and 1997?" needs no lookup);
- `single_seed`: the question and its reasoning draw on fewer than `min_seeds` seeds (a seed whose answer the
  question states is not drawn on: it needs no lookup);
- `wrong_answer`: a choice over measured seeds whose answer names the option the seed answers make wrong, or a
  difference of two measured seeds whose answer does not state it.

Each failure is a (code, message) pair: the code becomes the counted reason `multihop_<code>`, the message, in the
row's language, is fed back to the model on the retry."""

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from .questions import asks, describe, near_copy, offers_choice, opens_a_clause, overlap, task_talk
from .seeds import answer_of, bridge_answers, difference_of, stated_seed_answers, wrong_choice, wrong_difference
from .words import CJK, answer_head, contains, distinctive, normalise, terms

Seeds = Sequence[Dict[str, str]]


@dataclass
class SubstanceThresholds:
    max_seed_overlap: float = 0.7  # a question whose content terms come from one seed at least this much copies it
    min_seeds: int = 2  # seeds the question and thinking must draw on
    seed_use_overlap: float = 0.4  # a seed is drawn on when this share of its question's terms appears

    def __post_init__(self):
        for name in ("max_seed_overlap", "seed_use_overlap"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < float(value) <= 1:
                raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")


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


def seeds_used(question: str, thinking: str, seeds: Seeds, threshold: float, stated: Sequence[str] = ()) -> int:
    """Seeds whose question words (or whose answer) appear in the multi-hop question and its reasoning; the words
    that three or more seeds all share (the topic: "river delta") are left out. A seed whose answer is in `stated`
    (the question gives it) needs no lookup and is not counted."""
    body = f"{question}\n{thinking}"
    found = terms(body, stemmed=True)
    own = [terms(s.get("question", ""), stemmed=True) for s in seeds]
    # the words three or more seeds all share are their topic ("river delta") and name none of them; two seeds'
    # shared words are often the link between them (a Bridging chain's company)
    common = set.intersection(*own) if len(own) > 2 else set()
    used = 0
    for s, mine in zip(seeds, own):
        ans = answer_of(s)
        if ans in stated:
            continue
        share = 0.0  # the seed question's words, or those of its phrase in a draft ("the case began")
        for st in (mine, terms(describe(s.get("question", ""))[0] or "", stemmed=True)):
            st = st - common or st
            share = max(share, len(st & found) / len(st) if st else 0.0)
        if share >= threshold or (distinctive(ans) and contains(body, ans)):
            used += 1
    return used


def copied_seed(question: str, seeds: Seeds, limits: Optional[SubstanceThresholds] = None) -> int:
    """The 1-based number of the seed question that `question` copies, or 0."""
    limits = limits or SubstanceThresholds()
    # a choice between two seeds ("Which is greater: the X of A, or the X of B?") or their difference ("How many
    # years passed between A and B?") shares most words with each, so the overlap test is left to the others
    pair = offers_choice(question) or difference_of(question, seeds) is not None
    for n, s in enumerate(seeds, 1):
        sq = s.get("question", "")
        copies = not pair and overlap(question, sq) >= limits.max_seed_overlap
        # a whole Chinese seed inside the question ("Q1Q2": seeds one after the other, their inner "：" hiding the
        # clause start); an English seed's words inside a relative clause are how a bridge is hidden
        whole = bool(CJK.search(sq)) and len(terms(sq)) >= 2 and contains(question, sq)
        if normalise(sq) and (opens_a_clause(question, sq) or copies or whole or near_copy(question, sq)):
            return n
    return 0


def leaves_draft(draft: Optional[Tuple[str, str]], worked: bool, language: str = "en") -> Optional[Tuple[str, str]]:
    """(code, message) when a reply to a set shown a worked `draft` (question, answer) asks a question whose answer
    code cannot work out from the seeds (`worked`: `seeds.worked_out`): it left the draft's two lookups. The 0.5B
    drifted from "How many years passed between when the station was built and when it was named?" to "How many
    years did the station begin collecting data in each year?"."""
    if draft is None or worked:
        return None
    return "leaves_draft", REASONS[language]["leaves_draft"].format(draft=draft[0], answer=draft[1])


def check_multihop(
    question: str,
    answer: str,
    thinking: str,
    seeds: Seeds,
    limits: Optional[SubstanceThresholds] = None,
    language: str = "en",
) -> Optional[Tuple[str, str]]:
    """(code, message) for the first substance failure of a multi-hop reply, or None when it is real; the message,
    in `language`, tells the model what to fix."""
    limits = limits or SubstanceThresholds()
    say = REASONS[language]
    if not asks(question):
        return "not_a_question", say["not_a_question"]
    n = copied_seed(question, seeds, limits)
    if n:
        return "copies_seed", say["copies_seed"].format(n=n, seed=seeds[n - 1].get("question", "")[:80])
    talk = task_talk(question)
    if talk:
        return "copies_prompt", say["copies_prompt"].format(talk=talk)
    head = answer_head(answer)
    if head and distinctive(head) and contains(question, head) and not offers_choice(question):
        return "states_answer", say["states_answer"].format(value=head[:60])
    for hidden in bridge_answers(seeds):
        if contains(question, hidden):
            return "states_answer", say["states_bridge"].format(value=hidden[:60])
    given = stated_seed_answers(question, seeds)
    if len(given) >= 2:  # every lookup handed over: "How many years passed between 1994 and 1997?"
        return "states_answer", say["states_seeds"].format(values=", ".join(repr(v[:40]) for v in given[:3]))
    # a seed whose answer the question states needs no lookup: it is not drawn on ("How long after the delta formed
    # in 1970 ...?" for "What year did the delta form?" -> 1970)
    used = seeds_used(question, thinking, seeds, limits.seed_use_overlap, stated=given)
    need = min(limits.min_seeds, len(seeds))
    if used < need:
        return "single_seed", say["single_seed"].format(used=used, total=len(seeds), need=need)
    right = wrong_choice(question, answer, seeds)
    if right is not None:
        return "wrong_answer", say["wrong_answer"].format(right=right[:80])
    want = wrong_difference(question, answer, seeds)
    if want is not None:
        return "wrong_answer", say["wrong_difference"].format(want=f"{want:g}")
    return None
