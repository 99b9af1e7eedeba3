"""The model-free substance checks of a multi-hop reply (mindgym_ops.substance)."""

import re

import pytest

from mindgym_ops.substance import SubstanceThresholds, answer_core, bridge_answers, check_multihop

CHAIN = [
    {"question": "Which company built the town's first railway?", "answer": "Northern Rail"},
    {"question": "In which year was Northern Rail founded?", "answer": "1825"},
    {"question": "Who was the mayor when the station opened?", "answer": "Ada Brandt"},
]
THINK = "Find which company built the first railway, then look up the founding year of that company."


@pytest.mark.parametrize(
    "question,answer,code",
    [
        # the failures seen on the embedded model: a seed question word for word, or with its answer inline
        ("Which company built the town's first railway?", "Northern Rail", "copies_seed"),
        ("which company built the towns first railway", "Northern Rail, it laid the track", "copies_seed"),
        ("In which year was Northern Rail founded? Consider the railway.", "1825", "copies_seed"),
        # the 1.5B model's habit: seed questions joined, not bridged
        (
            "Who was the mayor when the station opened, and which company built the town's first railway?",
            "Ada",
            "copies_seed",
        ),
        ("When did the town's railway company, founded in 1825, start building?", "1825", "states_answer"),
        ("In which year was Northern Rail, builder of the first railway, founded?", "1825", "states_answer"),
        ("What did the mayor Ada Brandt think about trains in general?", "She liked them", "single_seed"),
        # parroting the instructions: seen on the embedded model
        ("Which of the items in two single-hop questions is larger?", "Prices", "copies_prompt"),
        ("According to the document, when was the railway company founded by its builder?", "1825", "copies_prompt"),
        ("In which year was the company that built the town's first railway founded?", "1825. Because ...", None),
    ],
)
def test_each_kind_of_fake_multihop_is_caught(question, answer, code):
    thinking = THINK if code != "single_seed" else "Recall what the mayor said about trains."
    failed = check_multihop(question, answer, thinking, CHAIN)
    assert (failed[0] if failed else None) == code
    if failed:
        assert len(failed[1]) > 20  # a reason the retry can feed back
        # a Chinese run feeds the reason back in Chinese: same verdict, no English words of ours in it
        zh = check_multihop(question, answer, thinking, CHAIN, language="zh")
        assert zh[0] == code and any("\u4e00" <= ch <= "\u9fff" for ch in zh[1])
        ours = re.sub(r"'[^']*'|\"[^\"]*\"", "", zh[1])  # what it quotes from the reply may be English
        assert not set(re.findall(r"[a-z]{4,}", ours.lower())) & {"question", "single", "write", "solver", "must"}


def test_a_seed_inside_a_clause_is_a_hidden_bridge_not_a_copy():
    seeds = [
        {"question": "Who measured on Monday?", "answer": "Mara Quist"},
        {"question": "When did the council meet?", "answer": "Thursday"},
    ]
    q = "The person who measured on Monday doubled the figure by Friday; when does the council first hear of it?"
    assert check_multihop(q, "The following Thursday", "Relate the days, then the council meeting.", seeds) is None
    assert check_multihop("Who measured on Monday? And when?", "Mara", "x", seeds)[0] == "copies_seed"


def test_bridge_answers_are_the_hidden_middle_of_a_chain():
    assert bridge_answers(CHAIN) == ["Northern Rail"]
    assert answer_core("48. Because 120 x 0.4 = 48") == "48"
    assert answer_core("The following Thursday, because the report is due") == "The following Thursday"


def test_thresholds_are_respected():
    q = "In which year was the company that built the town's first railway founded?"
    assert check_multihop(q, "1825", THINK, CHAIN) is None
    strict = SubstanceThresholds(min_seeds=3)
    assert check_multihop(q, "1825", THINK, CHAIN, strict)[0] == "single_seed"
    loose = SubstanceThresholds(max_seed_overlap=1.0)
    near = "Which company built the first railway of the town, and in what season?"
    assert check_multihop(near, "Northern Rail", THINK, CHAIN)[0] == "copies_seed"
    assert check_multihop(near, "Northern Rail", THINK, CHAIN, loose)[0] != "copies_seed"


def test_chinese_is_compared_by_characters():
    seeds = [
        {"question": "小镇的第一条铁路是哪家公司修建的？", "answer": "北方铁路公司"},
        {"question": "北方铁路公司成立于哪一年？", "answer": "1825年"},
    ]
    assert check_multihop("小镇的第一条铁路是哪家公司修建的？", "北方铁路公司", "先找公司。", seeds)[0] == "copies_seed"
    assert check_multihop(
        "北方铁路公司修建了小镇第一条铁路，它成立于哪一年？", "1825年", "先找公司，再找年份。", seeds
    )[0] == ("states_answer")
    assert (
        check_multihop(
            "修建小镇第一条铁路的公司成立于哪一年？", "1825年", "先找修建铁路的公司，再找公司成立的年份。", seeds
        )
        is None
    )
