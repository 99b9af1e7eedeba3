"""The model-free rules (mindgym_ops.rules): substance checks of multi-hop replies and their material, drafts, the
solver's answer rule."""

import json
import re

import pytest

from mindgym_ops.rules.checks import SubstanceThresholds, check_multihop
from mindgym_ops.rules.drafts import draft, worked
from mindgym_ops.rules.material import check_background, check_seeds
from mindgym_ops.rules.questions import describe
from mindgym_ops.rules.seeds import bridge_answers
from mindgym_ops.rules.words import answer_head

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
    assert answer_head("48. Because 120 x 0.4 = 48") == "48"
    assert answer_head("The following Thursday, because the report is due") == "The following Thursday"


def test_thresholds_are_respected():
    q = "In which year was the company that built the town's first railway founded?"
    assert check_multihop(q, "1825", THINK, CHAIN) is None
    strict = SubstanceThresholds(min_seeds=3)
    assert check_multihop(q, "1825", THINK, CHAIN, strict)[0] == "single_seed"
    loose = SubstanceThresholds(max_seed_overlap=1.0)
    near = "Which company built the first railway of the town, and in what season?"
    assert check_multihop(near, "Northern Rail", THINK, CHAIN)[0] == "copies_seed"
    assert (check_multihop(near, "Northern Rail", THINK, CHAIN, loose) or ("passes",))[0] != "copies_seed"


def test_chinese_drafts_and_checks_work_as_the_english_ones():
    """Parity: a Chinese Temporal set is drafted as the years between two events and a Comparison set as which is
    greater, with the answer worked out by code; the checks read Chinese numerals and refuse a wrong answer."""
    from mindgym_ops.rules.answers import verdict
    from mindgym_ops.rules.seeds import expected_difference, worked_out

    seeds = _seeds(("案件是哪一年开始的？", "1994年"), ("案件是哪一年结束的？", "1997年"))
    q, a = worked(seeds, "Temporal")
    assert (q, a) == ("从案件开始到案件结束过了多少年？", "3年")
    thinking = "先找案件开始的年份，再找案件结束的年份，然后相减。"
    assert check_multihop(q, "3年，因为案件从1994年持续到1997年。", thinking, seeds, language="zh") is None
    assert check_multihop(q, "4年", thinking, seeds, language="zh")[0] == "wrong_answer"
    assert expected_difference(q, seeds) == 3
    doc = "布兰特案于1994年在凯萨开始，黑尔法官于1997年结案。"
    assert worked_out(q, "三年", seeds, doc) and not worked_out(q, "三年", seeds, "布兰特案历时多年。")
    assert verdict(q, a, "相隔三年", seeds) is True and verdict(q, a, "1997-1994=4", seeds) is False
    money = _seeds(("2000年学校的支出是多少？", "80,000元"), ("2000年食堂的支出是多少？", "50,000元"))
    q, a = worked(money, "Comparison")
    assert (q, a) == ("哪个更大：2000年学校的支出，还是2000年食堂的支出？", "2000年学校的支出")
    assert check_multihop(q, "2000年食堂的支出", "比较两项支出。", money, language="zh")[0] == "wrong_answer"
    assert check_multihop(q, "2000年学校的支出更大。", "比较两项支出。", money, language="zh") is None
    assert verdict(q, a, "80000", money) is True and verdict(q, a, "50000元", money) is False


def test_chinese_is_compared_by_words():
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


# ---- the material: backgrounds and seeds (failures seen on the embedded 0.5B model)

DOC = (
    "In 1887 harbour master Elias Brandt counted 42 ships in the port of Kessa. Two years later a storm sank 9 "
    "of them, so the council of Mayor Ida Voss spent 3,000 florins on a breakwater."
)


@pytest.mark.parametrize(
    "text,code",
    [
        (DOC, None),
        # an essay without facts
        (
            "This background document provides a self-contained overview of the scientific knowledge topics "
            "discussed in the reasoning area. It includes names, numbers, dates, causes and conditions.",
            "few_facts",
        ),
        # numbers but nobody named
        ("In 1998 the school had a budget of $1,000,000; in 2000 it was $500,000 and in 2005 $700,000.", "few_facts"),
        # the prompt's slots left as filler
        ("In 2001 the named place is [name], and the person in charge is [person]; 3 of 4 ...", "placeholder"),
        (
            "The meeting in 1990 was held in a school named XYZ by Tom Reyes, who spent $10,000 in 12 days.",
            "placeholder",
        ),
        (
            "In 1984 the meeting took place in the named place of the named person, Ann Lee and Bo Kim, 3 and 4.",
            "placeholder",
        ),
        ("1947年，港口城市哈尔登的商人李明建立了粮食交易所，第一年交易了三千吨粮食，两年后价格涨到每吨12元。", None),
        ("这篇背景文档介绍了科学知识，包含名称、数字、日期、原因和条件。", "few_facts"),
        # transliterated names (jieba tags them nrt, not nr)
        ("1850年，维尔镇的工程师玛拉在星期一测量了23个单位。两年后，同事托马斯把这两个数字与档案核对，用了三天。", None),
    ],
)
def test_a_vague_or_templated_background_is_refused(text, code):
    failed = check_background(text, "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en")
    assert (failed[0] if failed else None) == code
    if failed:
        assert failed[1]  # the reason fed back to the model


def _seeds(*pairs):
    return [{"question": q, "answer": a} for q, a in pairs]


@pytest.mark.parametrize(
    "seeds,kept,dropped,code",
    [
        (_seeds(("How many ships did Elias Brandt count?", "42"), ("Who led the council?", "Ida Voss")), 2, {}, None),
        # the embedded model's seeds of today's main job
        (
            _seeds(
                ("Which of the following facts is supported by the text?", "42 ships"),
                ("Which of the following statements is false?", "Ida Voss"),
            ),
            0,
            {"vague": 2},
            "seeds_vague",
        ),
        (
            _seeds(
                (
                    "What is the purpose of a breakwater?",
                    "It is a wall that can be built, used and modified by a council.",
                ),
                ("Who led the council?", "Ida Voss"),
            ),
            1,
            {"long_answer": 1},
            "seeds_long_answer",
        ),
        (
            _seeds(("In which year did the storm happen?", "1889"), ("Who counted the ships?", "Elias Brandt")),
            1,
            {"ungrounded": 1},
            "seeds_ungrounded",
        ),
        (
            _seeds(
                ("Which economic principle is the principle of scarcity?", "The principle of scarcity"),
                ("Who counted the ships?", "Elias Brandt"),
            ),
            1,
            {"in_question": 1},
            "seeds_in_question",
        ),
        (
            _seeds(
                ("What is the function of the port of Kessa?", "ships"),
                ("What is the function of the port of Kessa?", "florins"),
                ("Who counted the ships?", "Elias Brandt"),
                ("Who counted the ships in Kessa?", "Elias Brandt"),
            ),
            2,
            {"duplicate": 2},
            None,
        ),
        # a Comparison pair shares most words but asks about two items
        (
            _seeds(
                ("How many ships did Elias Brandt count in 1887?", "42"),
                ("How many ships did the storm sink in 1887?", "9"),
            ),
            2,
            {},
            None,
        ),
    ],
)
def test_unusable_seeds_are_dropped_and_too_few_left_is_refused(seeds, kept, dropped, code):
    usable, why, failed = check_seeds(seeds, DOC, "en")
    assert len(usable) == kept and why == dropped
    assert (failed[0] if failed else None) == code
    assert all(s in seeds for s in usable)


def test_image_seeds_skip_the_text_checks_but_not_duplicates():
    seeds = _seeds(
        ("Which of the following magnets attracts?", "the left one"), ("What colour is the left magnet?", "red")
    )
    assert check_seeds(seeds, "", "en")[2] is None
    twice = seeds[:1] * 2
    assert check_seeds(twice, "", "en")[2][0] == "seeds_duplicate"


def test_seed_reasons_are_in_the_run_language():
    seeds = _seeds(("文中提到了什么？", "船"), ("以下哪项正确？", "港口"))
    failed = check_seeds(seeds, "1887年，港口有42艘船。", "zh")[2]
    assert failed[0] == "seeds_vague" and "问题" in failed[1] and not re.search(r"[a-z]{4}", failed[1])


@pytest.mark.parametrize(
    "question,phrase",
    [
        ("In which year did the case begin?", "the case began"),
        ("When did the council meet?", "the council met"),
        ("How many ships did Elias Brandt count?", "the number of ships Elias Brandt counted"),
        ("How many patients were treated in 2021?", "the number of patients treated in 2021"),
        ("What was the total rainfall for 1963?", "the total rainfall for 1963"),
        ("When was the breakwater built?", "the breakwater was built"),
        ("When was the event in 2000?", "the event in 2000"),
        ("Who led the council?", None),  # no rule: the prompt keeps its general hint
        ("When did the delta ecosystem quietly flourish?", None),  # no known event verb
    ],
)
def test_seed_questions_become_phrases_for_a_draft(question, phrase):
    assert describe(question)[0] == phrase


def test_a_draft_compares_two_measured_seeds_and_passes_the_substance_check():
    seeds = _seeds(("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997"))
    q = draft(seeds, "Temporal")  # "which came first" of a start and an end is common sense: a span is asked
    assert q == "How many years passed between when the case began and when the case ended?"
    thinking = "Find the year the case began, then the year it ended, and subtract the first from the second."
    assert check_multihop(q, "3 years, because it ran from 1994 to 1997.", thinking, seeds) is None
    choice = "Which happened earlier: the case began, or the case ended?"
    assert check_multihop(choice, "The case began", thinking, seeds) is None  # a choice names its answer
    same_year = _seeds(("When was the dam opened?", "May 2, 2000"), ("When was the bridge opened?", "March 3, 2000"))
    assert draft(same_year, "Temporal") == "Which happened earlier: the dam was opened, or the bridge was opened?"
    assert draft(seeds, "Bridging") is None
    # answers that are not numbers or dates, or one answer twice, give no draft
    assert draft(_seeds(("Who led the council?", "Ida Voss"), ("Who counted?", "Elias Brandt")), "Comparison") is None
    assert (
        draft(_seeds(("What was the cost in 1990?", "$5"), ("What was the price in 1991?", "$5")), "Comparison") is None
    )
    # an open question that contains its answer is still refused
    assert check_multihop("When did the case that began in 1994 end?", "1994", thinking, seeds)[0] == "states_answer"


def test_a_seed_with_one_word_changed_is_a_copy():
    """Seen in the main job on the 0.5B model: the seed "What was the total rainfall for 1963?" came back
    with 1964, and its content words were just under the overlap limit."""
    seeds = _seeds(
        ("What was the total rainfall for 1963?", "$25 million"),
        ("What was the total rainfall for 1974?", "$30 million"),
    )
    failed = check_multihop(
        "What was the total rainfall for 1964?", "1974 was wetter", "Compare $25 million with $30 million.", seeds
    )
    assert failed[0] == "copies_seed"


def test_a_choice_question_may_name_its_answer_but_its_thinking_may_not():
    from mindgym_ops.llm import parse_reply
    from mindgym_ops.schemas import MultiHop

    q = "Which is greater: the total revenue before the sales rose, or the total revenue after the sales fell?"
    reply = {"thinking": "Find both revenues, then compare the two amounts.", "multihop_question": q}
    parsed, err = parse_reply(
        json.dumps({**reply, "multihop_answer": "the total revenue before the sales rose"}), MultiHop
    )
    assert err is None and parsed.multihop_question == q
    open_q = "What was the total revenue before the sales rose, given that it was $3,500 at the start of 1999?"
    _, err = parse_reply(
        json.dumps({**reply, "multihop_question": open_q, "multihop_answer": "it was $3,500 at the start of 1999"}),
        MultiHop,
    )
    assert err is not None and "gives its own answer away" in err.message
    leak = {
        **reply,
        "thinking": "The answer is the total revenue before the sales rose.",
        "multihop_answer": "the total revenue before the sales rose",
    }
    _, err = parse_reply(json.dumps(leak), MultiHop)
    assert err is not None and "thinking states the final answer" in err.message


def test_a_choice_answer_must_follow_from_the_seed_answers():
    """Seen in the main job: "Which happened earlier: the case began, or the case ended?" answered
    "The case ended in 1997" from seeds 1994 and 1997; the solver then agreed with the wrong reference."""
    seeds = _seeds(("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997"))
    q = "Which happened earlier: the case began, or the case ended?"
    thinking = "Find the year the case began and the year it ended, then compare them."
    failed = check_multihop(q, "The case ended in 1997.", thinking, seeds)
    assert failed[0] == "wrong_answer" and "'the case began'" in failed[1]
    assert check_multihop(q, "The case began, in 1994.", thinking, seeds) is None
    later = "Which happened later: the case began, or the case ended?"
    assert check_multihop(later, "The case ended in 1997.", thinking, seeds) is None
    money = _seeds(
        ("What was the budget of Kessa in 1990?", "$3,500"), ("What was the budget of Vell in 1990?", "$12,000")
    )
    q = "Which is greater: the budget of Kessa in 1990, or the budget of Vell in 1990?"
    assert check_multihop(q, "The budget of Kessa.", "Look up both budgets and compare.", money)[0] == "wrong_answer"
    dates = _seeds(("When was the dam opened?", "September 20, 2000"), ("When was the bridge opened?", "March 3, 2000"))
    q = "Which happened earlier: the dam was opened, or the bridge was opened?"
    assert (
        check_multihop(q, "The dam was opened first.", "Find both opening dates and compare.", dates)[0]
        == "wrong_answer"
    )


@pytest.mark.parametrize(
    "reference,candidate,verdict",
    [
        ("The case began", "the case began in 1994", True),
        ("The case began", "The case ended.", False),
        ("The case began earlier than the case ended.", "the case ended", False),  # the first named option
        ("The case began", "I cannot tell", None),
    ],
)
def test_choice_answers_are_matched_by_the_option_they_name(reference, candidate, verdict):
    from mindgym_ops.rules.answers import match

    assert match(reference, candidate, "Which happened earlier: the case began, or the case ended?") is verdict


@pytest.mark.parametrize(
    "candidate,verdict",
    [
        ("59 years", None),  # seen: "years" set the first option apart from "1 year", so this named it
        ("The population over the past 5 years is 15,000 and over the past 1 year 25,000.", True),
        ("The population over the past 1 year is greater.", False),
        ("35,000", None),
    ],
)
def test_options_that_differ_by_a_short_number_are_told_apart_by_it(candidate, verdict):
    from mindgym_ops.rules.answers import match

    question = (
        "Which is greater: the population of the lake over the past 5 years, "
        "or the population of the lake over the past 1 year?"
    )
    reference = "The population of the lake over the past 5 years is greater."
    assert match(reference, candidate, question) is verdict


@pytest.mark.parametrize(
    "question,reference,candidate,verdict",
    [
        # found in review: the earliest number decided, so a value in the answer named the other option
        (
            "Which is greater: the growth over the past 5 years, or the growth over the past 1 year?",
            "The past 5 years",
            "Growth was 1% higher over the past 5 years",
            True,
        ),
        ("Which lasted longer: Phase 1 or Phase 2?", "Phase 2", "It lasted 1 year longer in Phase 2", True),
        ("Which lasted longer: Phase 1 or Phase 2?", "Phase 2", "Phase 1, by 2 years", False),
        ("哪个增长更多：过去5年，还是过去1年？", "过去5年", "增长了1倍的是过去5年", True),
        ("Which came first: the river in 1759, or the river in 1861?", "1759", "It was 1861.", False),
        ("Which is greater: prices or wages?", "prices", "The price rose faster than wages", True),
    ],
)
def test_a_number_names_an_option_only_where_it_stands_as_in_the_option(question, reference, candidate, verdict):
    from mindgym_ops.rules.answers import match

    assert match(reference, candidate, question) is verdict


@pytest.mark.parametrize(
    "attempt,verdict",
    [
        ("3 years (1994 to 1997)", True),  # found in review: the last number, 1997, made these wrong
        ("About 3 years, from 1994 until 1997.", True),
        ("from 1994 to 1997: 3 years", True),
        ("1997 - 1994 = 3 years", True),
        ("1994 - 1997 = -3", True),  # a difference, sign aside
        ("Three years", True),  # in words: read as 3 (text2num); it went to the judge, which calls anything right
        ("Four years", False),
        ("It took a while", None),  # no number at all: the judge decides
        ("1994, 1995, 1996, 1997", False),
        ("7 years", False),
        ("2022 - 2021 = 1 year.", False),
    ],
)
def test_the_number_an_attempt_gives_decides_a_difference_of_two_seed_answers(attempt, verdict):
    from mindgym_ops.rules.answers import verdict as rule

    seeds = _seeds(("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997"))
    question = "How many years passed between when the case began and when the case ended?"
    reference = "The case began in 1994 and ended in 1997. Three years passed between them: 3."
    assert rule(question, reference, attempt, seeds) is verdict


def test_stems_meet_across_a_final_e_a_double_s_and_an_irregular_past():
    from mindgym_ops.rules.words import stem

    assert len({stem(w) for w in ("price", "prices", "priced")}) == 1
    assert stem("classes") == stem("class") != stem("clas") and stem("cities") == stem("city")
    assert stem("years") == stem("year") and stem("began") == stem("begin") == stem("begins")
    assert stem("ecosystem's") == stem("ecosystems") and stem("started") == stem("start")
    assert stem("案件") == "案件"  # a Chinese word is its own stem


def test_a_temporal_draft_needs_two_dates_and_seeds_about_the_prompt_are_vague():
    """Seen in the main job: a Temporal set with "September 20, 2000" and "$80,000" became "Which happened
    earlier: the event in 2000, or the total worked out from the numbers above ...?"."""
    seeds = _seeds(
        ("When was the event in 2000?", "September 20, 2000"),
        ("What was the total worked out from the numbers above for the school in 2000?", "$80,000"),
    )
    assert draft(seeds, "Temporal") is None
    assert check_seeds(seeds, "On September 20, 2000 the school spent $80,000 in total.")[1] == {"vague": 1}


@pytest.mark.parametrize(
    "question",
    [
        "Which happened earlier: the case began, or the case ended?",
        "Which happened earlier? The case began, or the case ended?",
        "What happened earlier: the case began, or the case ended?",
        "Which happened earlier, the case began or the case ended?",
    ],
)
def test_the_options_of_a_choice_question_in_the_forms_the_model_writes(question):
    from mindgym_ops.rules.questions import options

    assert [o.lower() for o in options(question)] == ["the case began", "the case ended"]


def test_a_draft_over_two_similar_seeds_is_not_a_copy_of_either():
    """Seen in the main job: both drafts were refused, one as a copy (its options share most words with each
    seed), one as using no seed at all ("began" is not "begin")."""
    seeds = _seeds(
        ("What was the first year in which the El Dorado station was built?", "1965"),
        ("What was the first year in which the El Dorado station was named?", "1967"),
    )
    choice = "Which is greater: the first year in which the El Dorado station was built, or the first year in which "
    choice += "the El Dorado station was named?"
    assert (
        check_multihop(choice, "the first year in which it was named", "Find both years, compare them.", seeds) is None
    )
    # which of two years is "greater" asks nothing; the draft asks the years between them (seen on 1965 and 1967)
    q, a = worked(seeds, "Comparison")
    assert q.startswith("How many years passed between the first year in which the El Dorado station was built and")
    assert a == "2 years" and check_multihop(q, a, "Find both years, then subtract them.", seeds) is None
    assert check_multihop(q, "3 years", "Find both years, then subtract them.", seeds)[0] == "wrong_answer"
    case = _seeds(("What year did the case begin?", "1994"), ("What year did the case end?", "1997"))
    q = "Which happened earlier? The case began, or the case ended?"
    assert check_multihop(q, "The case began.", "To answer this, we need two single-hop answers.", case) is None


def test_a_comparison_draft_compares_quantities_not_events():
    """Seen in the main job: "Which is greater: the mountain weather station started, or the date of ...?"."""
    seeds = _seeds(
        ("When did the mountain weather station start?", "1995"),
        ("What was the date of the station's last record?", "2020"),
        ("What was the rainfall of the station in 1995?", "300 mm"),
    )
    assert draft(seeds, "Comparison") is None  # a date and a rainfall are not compared
    seeds.append({"question": "What was the rainfall of the station in 2020?", "answer": "450 mm"})
    assert draft(seeds, "Comparison") == (
        "Which is greater: the rainfall of the station in 1995, or the rainfall of the station in 2020?"
    )
    assert draft(seeds, "Temporal") == (
        "How many years passed between when the mountain weather station started and the date of the station's "
        "last record?"
    )


def test_a_difference_must_be_the_one_the_seed_answers_give():
    """Seen on the 0.5B model: "How much time passed between ... 1799 and ... 1798?" answered "8 years"."""
    seeds = _seeds(
        ("In which year did the case begin?", "1994"),
        ("In which year did the case end?", "1997"),
        ("How many witnesses did Ida Voss call?", "12"),
    )
    q = "How many years passed between when the case began and when the case ended?"
    thinking = "Find the year the case began and the year it ended, then subtract."
    failed = check_multihop(q, "4 years, since it ended in 1997.", thinking, seeds)
    assert failed[0] == "wrong_answer" and "differ by 3" in failed[1]
    assert check_multihop(q, "It lasted 3 years (1994 to 1997).", thinking, seeds) is None
    money = _seeds(
        ("What was the total amount spent on the school in 2000?", "$80,000"),
        ("What was the total amount spent on the cafeteria in 2000?", "$50,000"),
        ("What was the total amount spent on the library in 2000?", "$10,000"),
    )
    q = "What is the difference between the total amount spent on the school and on the cafeteria in 2000?"
    assert check_multihop(q, "$40,000", "Find both amounts, then subtract.", money)[0] == "wrong_answer"
    assert check_multihop(q, "$30,000 more went to the school.", "Find both amounts, then subtract.", money) is None
    # a question that does not name two measured seeds is not checked ("How long" names neither year)
    from mindgym_ops.rules.seeds import expected_difference, wrong_difference

    assert expected_difference("How long did the case last?", seeds) is None
    # seen on the 0.5B model, and passed before the words were compared by stem: "0 years" for 1759-1861
    delta = _seeds(
        ("In which year did the river delta ecosystem start?", "1759"),
        ("In which year did the river delta ecosystem end?", "1861"),
    )
    asked = "How many years passed between the river delta ecosystem's start and end?"
    assert check_multihop(asked, "1759 - 1859 = 0 years", "Find the start, then the end.", delta)[0] == "wrong_answer"
    # exported by bench_quality on the 0.5B model: two years written in the question, and "8 years" for them
    spent = "How much time passed between the money being spent in 1799 and the money being spent in 1798?"
    assert expected_difference(spent, delta) == 1 and wrong_difference(spent, "8 years", delta) == 1
    assert expected_difference(q, money) == 30000


@pytest.mark.parametrize(
    "reference,candidate,verdict",
    [
        ("3 years, because the case ran from 1994 to 1997.", "1997 - 1994 = 3", True),
        ("3 years, because the case ran from 1994 to 1997.", "4 years", False),
        ("$30,000 (the school got $80,000 and the cafeteria $50,000).", "$30,000", True),
        ("It took 3 years for the case to end after it began in 1994.", "3", None),  # no number up front: a judge
        ("The following Thursday, because the report is due within three days.", "Thursday", None),
    ],
)
def test_a_long_reference_with_a_number_up_front_is_matched_by_rule(reference, candidate, verdict):
    from mindgym_ops.rules.answers import match

    assert match(reference, candidate, "How many years passed?") is verdict


def test_a_question_that_states_the_seed_answers_needs_no_seed():
    """Exported by the main job on the 0.5B model, before this check: "How many years passed between 1994
    and 1997?" (the two seed answers), answered "5,000 years"."""
    from mindgym_ops.rules.seeds import stated_seed_answers

    seeds = _seeds(("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997"))
    thinking = "Find the year the case began and the year it ended, then subtract."
    failed = check_multihop("How many years passed between 1994 and 1997?", "3 years", thinking, seeds)
    assert failed[0] == "states_answer" and "'1994', '1997'" in failed[1]
    choice = "Which is greater: the $80,000 for the school, or the $50,000 for the cafeteria?"
    money = _seeds(
        ("What was the amount spent on the school?", "$80,000"),
        ("What was the amount spent on the cafeteria?", "$50,000"),
    )
    assert check_multihop(choice, "The school", "Compare the two amounts.", money)[0] == "states_answer"
    # one seed answer named as an anchor leaves one lookup: a question over two seeds needs both
    anchored = "How many years after 1994 did the case end?"
    assert stated_seed_answers(anchored, seeds) == ["1994"]
    assert check_multihop(anchored, "3", thinking, seeds)[0] == "single_seed"
    zh = check_multihop("1994年和1997年之间过了几年？", "3年", "先找开始的年份，再找结束的年份。", seeds, language="zh")
    assert zh[0] == "states_answer" and "单跳问题的答案" in zh[1]


def test_a_draft_carries_the_answer_its_seed_answers_give():
    """The 0.5B model wrote "13 years" and "12 years" for 1759 to 1861, and "4 years" for 1994 to 1997: the
    subtraction or comparison is done by code and shown with the suggested question."""

    case = _seeds(("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997"))
    q, a = worked(case, "Temporal")
    assert a == "3 years" and check_multihop(q, a + ", from 1994 to 1997.", "Find both years, subtract.", case) is None
    one = _seeds(("In which year did the case begin?", "1996"), ("In which year did the case end?", "1997"))
    assert worked(one, "Temporal")[1] == "1 year"
    rain = _seeds(("What was the rainfall in 1995?", "300 mm"), ("What was the rainfall in 2020?", "450 mm"))
    q, a = worked(rain, "Comparison")
    assert a == "the rainfall in 2020" and check_multihop(q, a, "Find both, compare.", rain) is None
    dams = _seeds(("When was the dam opened?", "May 2, 2000"), ("When was the bridge opened?", "March 3, 2000"))
    assert worked(dams, "Temporal")[1] == "the bridge was opened"


def test_a_statement_is_not_a_question():
    """Seen in the main job on the 0.5B model: "In 2006, the river delta ecosystem caused a price of $200 million,
    which is a total of $200 million." passed every other check, and the judges kept it."""
    case = _seeds(("What year did the case begin?", "1994"), ("What year did the case end?", "1997"))
    thinking = "Find the year the case began and the year it ended, then subtract."
    for statement in ("In 2006, the case caused a price of $200 million.", "The case began in 1994 and ended later."):
        assert check_multihop(statement, "3 years", thinking, case)[0] == "not_a_question"
    for asked in (
        "How many years passed between when the case began and when the case ended?",
        "Calculate the number of years between when the case began and when it ended.",
        "Between when the case began and when it ended, how many years passed?",
    ):
        assert check_multihop(asked, "3 years", thinking, case) is None
    zh = _seeds(("案件是哪一年开始的？", "1994年"), ("案件是哪一年结束的？", "1997年"))
    assert (
        check_multihop("案件开始于1994年。", "3年", "先找开始和结束的年份，再相减。", zh, language="zh")[0]
        == "not_a_question"
    )


def test_a_seed_whose_answer_the_question_states_is_not_drawn_on():
    """Seen in the main job on the 0.5B model: "How long did the river delta ecosystem start in 1970 in New York,
    and then the price of $200 million in 2006?" stated the answer of the one seed it named."""
    delta = _seeds(
        ("What year did the river delta ecosystem start in?", "1970"),
        ("What was the name of the river delta society?", "New York River Delta Society"),
        ("What is the population of the river delta ecosystem?", "100 million people"),
    )
    q = "How long did the river delta ecosystem start in 1970 in New York, and then the price of $200 million in 2006?"
    thinking = (
        "Find when the river delta ecosystem started in 1970 in New York, then the price of $200 million in 2006."
    )
    assert check_multihop(q, "36 years", thinking, delta)[0] == "single_seed"
    asked = "How many years after the river delta ecosystem started was the river delta society named?"
    assert check_multihop(asked, "36 years", "Find when the ecosystem started and the society's name.", delta) is None


def test_an_answer_worked_out_from_seeds_found_in_the_document_is_verified():
    """`answer_source: code` (the self-consistency filter keeps such a row when the solver finds it hard): the
    difference or the option that two seed answers found in the document decide, stated by the answer. The rows
    are the real ones of tests/data/solver_rows_en.jsonl, which the 0.5B solver failed 4 times of 4."""
    from mindgym_ops.rules.seeds import worked_out

    rows = [json.loads(line) for line in open("tests/data/solver_rows_en.jsonl")]
    delta = next(r for r in rows if r["query"].startswith("How many years passed between when the river delta"))
    args = (delta["query"], delta["response"], delta["sub_questions"], delta["background_document"])
    assert worked_out(*args)  # 1759 and 1861 are in the report: 102 years
    assert not worked_out(delta["query"], "100 years.", *args[2:])  # not the difference the seeds give
    assert not worked_out(delta["query"], "A long time.", *args[2:])  # states no number
    assert not worked_out(*args[:3], "The delta formed long ago.")  # the seed answers are not in the document
    assert not worked_out(*args[:3], "")  # an image row: no document to find them in
    money = _seeds(
        ("What was the total amount spent on the school in 2000?", "$80,000"),
        ("What was the total amount spent on the cafeteria in 2000?", "$50,000"),
    )
    doc = "In 2000 the town spent $80,000 on the school and $50,000 on the cafeteria."
    choice = "Which is greater: the total amount spent on the school in 2000, or on the cafeteria in 2000?"
    assert worked_out(choice, "The school: $80,000 against $50,000.", money, doc)
    assert not worked_out(choice, "The cafeteria.", money, doc)  # the option the seed values make wrong
    # an open question whose answer only the model wrote is not verified, however plausible
    assert not worked_out("Who paid for the school?", "The town council", money, doc)


def test_chinese_rows_pair_by_their_words():
    """Cross-row pairing compares jieba's words, stop words left out: two unrelated Chinese reports used to score
    0.069 on single characters against the 0.05 pairing threshold; now they stay under it, and two reports about
    the same case pair clearly."""
    from mindgym_ops.pairing import greedy_pairs, lexical_similarity

    docs = [
        "布兰特案于1994年在凯萨开始，黑尔法官于1997年结案。",
        "河口三角洲的人口在2000年达到十万人，渔业收入增长了两成。",
        "凯萨法院在1994年开始审理布兰特案，黑尔法官主持。",
    ]
    sim = lexical_similarity(docs)
    assert sim[0][2] > 0.3 and sim[0][1] <= 0.05 and sim[1][2] <= 0.05
    assert greedy_pairs(sim, 0.05) == [(0, 2, sim[0][2])]


def test_chinese_seeds_that_state_and_a_question_that_strings_them_are_refused():
    """Seen in the zh recipe on the 0.5B model: seed "questions" that copy the report's slots as statements, and a
    multi-hop "question" that is the two of them one after the other."""
    from mindgym_ops.rules.material import seed_problem

    doc = "2023年，公司创始人李女士记录下一个数量或金额：1.5万元。第二有名字的人在完成了研发任务后，做了2.7亿元。"
    seeds = [
        {"question": "李女士记录下一个数量或金额：1.5万元。", "answer": "1.5万元"},
        {"question": "第二有名字的人，他做了什么，以及一个数字：2.7亿元。", "answer": "2.7亿元"},
    ]
    assert seed_problem(seeds[0], [], doc) == ("not_a_question", 0)
    assert seed_problem({"question": "李女士记录下的金额是多少？", "answer": "1.5万元"}, [], doc) is None
    strung = "李女士记录下一个数量或金额：1.5万元。第二有名字的人，他做了什么，以及一个数字：2.7亿元。"
    assert check_multihop(strung, "2.7亿元", "先找金额。", seeds, language="zh")[0] == "copies_seed"
    strung = "李女士记录下的金额是多少？第二个人做了多少？"
    asked = [
        {"question": "李女士记录下的金额是多少？", "answer": "1.5万元"},
        {"question": "第二个人做了多少？", "answer": "2.7亿元"},
    ]
    assert check_multihop(strung, "2.7亿元", "先找金额。", asked, language="zh")[0] == "copies_seed"
