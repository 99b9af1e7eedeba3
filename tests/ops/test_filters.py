"""Judge filters on small datasets with scripted judges and solvers."""

import json

import pytest
from data_juicer.utils.constant import Fields
from mindgym_script import judge_says, request_kind, user_text

from mindgym_ops.ops.mindgym_depth_breadth_filter import MindgymDepthBreadthFilter
from mindgym_ops.ops.mindgym_self_consistency_filter import MindgymSelfConsistencyFilter
from mindgym_ops.rules.answers import match


def dataset(questions, answers=None):
    n = len(questions)
    answers = answers or ["The following Thursday"] * n
    return {
        "multihop_question": questions,
        "multihop_answer": answers,
        "sub_questions": [[]] * n,
        "mindgym_row_id": [f"r{i}" for i in range(n)],
        "images": [[]] * n,
        Fields.stats: [{} for _ in range(n)],
    }


def with_control(*attempts):
    """The lists the agreement judge may be shown: the attempts, with the control at any place."""
    from mindgym_ops.ops.wording import CONTROL_ANSWER

    return [list(attempts[:i]) + [CONTROL_ANSWER["en"]] + list(attempts[i:]) for i in range(len(attempts) + 1)]


def solve_over_seeds(script, tmp_path, answers, question, reference, seeds):
    """One row over measured seeds, solved once per scripted answer: (its solve record, keep)."""
    replies = iter(answers)
    script.overrides["solve"] = lambda body: json.dumps({"answer": next(replies)})
    op = MindgymSelfConsistencyFilter(k=len(answers), backend="api", model="fake", work_dir=str(tmp_path))
    samples = dataset([question], [reference])
    samples["sub_questions"] = [[{"question": q, "answer": a} for q, a in seeds]]
    stats, keep = run_filter(op, samples)
    return json.loads(stats[0]["mindgym_solve_record"]), keep


def run_filter(op, samples):
    stats = op.compute_stats_batched(samples)[Fields.stats]
    return stats, list(op.process_batched({Fields.stats: stats}))


def test_depth_breadth_thresholds_in_both_directions(api_env, script, tmp_path):
    scores = {"DEEPQ": (5, 4), "SHALLOWQ": (1, 4), "NARROWQ": (4, 1), "EDGEQ": (3, 2)}

    def judge(body):
        word = next(w for w in scores if w in user_text(body))
        d, b = scores[word]
        return json.dumps(
            {"steps": [f"step {i}" for i in range(d)], "knowledge_areas": [f"area {i}" for i in range(b)]}
        )

    script.overrides["judge"] = judge
    op = MindgymDepthBreadthFilter(
        min_depth=3, min_breadth=2, calibrate=False, backend="api", model="fake", work_dir=str(tmp_path)
    )
    stats, keep = run_filter(op, dataset([f"a {w} question?" for w in scores]))
    assert [s["mindgym_depth"] for s in stats] == [5.0, 1.0, 4.0, 3.0]
    assert keep == [True, False, False, True]  # bounds are inclusive
    record = json.loads(stats[0]["mindgym_judge_record"])
    assert record["steps"] == [f"step {i}" for i in range(5)] and len(record["knowledge_areas"]) == 4
    assert "raw" in record and "judge_calibration" not in record
    op_max = MindgymDepthBreadthFilter(
        min_depth=1,
        max_depth=4,
        min_breadth=1,
        max_breadth=3,
        calibrate=False,
        backend="api",
        model="fake",
        work_dir=str(tmp_path),
    )
    assert run_filter(op_max, dataset([f"a {w} question?" for w in scores]))[1] == [False, False, True, True]


def test_a_judge_reply_that_lists_no_steps_is_retried_with_the_reason(api_env, script, tmp_path):
    """Seen on the 0.5B judge: ["102 years"] as the steps of a two-lookup difference question, and a question
    copied as its own one step. Such a reply is refused, and the retry carries the reason."""
    question = "How many years passed between when the delta formed and when the dam was built?"
    steps = ["recall when the delta formed", "recall when the dam was built", "subtract"]

    def judge(body):
        if len(body["messages"]) > 1:  # the retry, after the feedback turn
            return json.dumps({"steps": steps, "knowledge_areas": ["history", "arithmetic"]})
        copied = "COPYQ" in user_text(body)
        return json.dumps({"steps": [question if copied else "102 years"], "knowledge_areas": ["history"]})

    script.overrides["judge"] = judge
    op = MindgymDepthBreadthFilter(min_depth=2, calibrate=False, backend="api", model="fake", work_dir=str(tmp_path))
    stats, keep = run_filter(op, dataset([question, question.replace("How", "COPYQ how")], ["102 years"] * 2))
    assert [s["mindgym_depth"] for s in stats] == [3.0, 3.0] and keep == [True, True]
    feedback = [b["messages"][-1]["content"] for b in api_env.stats.bodies if len(b["messages"]) > 1]
    assert len(feedback) == 2
    assert any("the steps only give the answer ('102 years')" in f for f in feedback)
    assert any("step 1 repeats the question" in f for f in feedback)


def test_a_list_of_steps_that_is_not_one_is_named():
    from mindgym_ops.rules.material import not_steps

    q = "How many legs does a spider have?"
    assert not_steps(["recall how many legs a spider has"], q, "Eight") is None
    assert not_steps(["8 legs"], q, "Eight") is None  # an answer in other words: one step, rightly
    assert not_steps(["Eight"], q, "Eight. Every spider has eight.")[0] == "gives_answer"
    # seen: the retry of ["102 years"] was ["102"]
    assert not_steps(["102"], "How many years passed?", "102 years")[0] == "gives_answer"
    assert not_steps(["find both years", "subtract"], "How many years passed?", "102 years") is None
    assert not_steps(["find the dam's year", "1997"], "When?", "1997") is None  # the answer as the last step is one
    assert not_steps(["Step: how many legs does a spider have"], q, "Eight")[0] == "copies_question"
    assert not_steps(["蜘蛛有几条腿？"], "蜘蛛有几条腿？", "八条", "zh")[0] == "copies_question"


@pytest.mark.parametrize(
    "policy,expected",
    [({"on_failure": "flag"}, True), ({"on_failure": "drop"}, False), ({"on_judge_failure": "keep"}, True)]
    + [({"on_judge_failure": "drop"}, False), ({"on_failure": "flag", "on_judge_failure": "keep"}, True)],
)
def test_on_failure_decides_unscorable_rows_and_the_old_name_still_works(api_env, script, tmp_path, policy, expected):
    script.overrides["judge"] = lambda body: "I refuse to rate this."
    op = MindgymDepthBreadthFilter(
        **policy, try_num=2, calibrate=False, backend="api", model="fake", work_dir=str(tmp_path)
    )
    stats, keep = run_filter(op, dataset(["q one?"]))
    assert stats[0]["mindgym_depth"] == -1.0 and keep == [expected]
    assert json.loads(stats[0]["mindgym_judge_record"])["error"]["kind"] == "parse"
    assert api_env.stats.requests == 2  # try_num attempts, then a counted failure
    totals = op.counters.totals()
    assert totals["flagged" if expected else "dropped"] == {"mindgym_depth_judge_failed": 1}


def test_bad_judge_config_fails_at_init():
    with pytest.raises(ValueError, match=r"on_judge_failure must be one of \['keep', 'drop'\]"):
        MindgymDepthBreadthFilter(on_judge_failure="maybe", backend="api", model="fake")
    with pytest.raises(ValueError, match=r"on_failure: flag and on_judge_failure: drop contradict each other"):
        MindgymDepthBreadthFilter(on_failure="flag", on_judge_failure="drop", backend="api", model="fake")
    with pytest.raises(ValueError, match=r"on_failure must be one of \['drop', 'flag'\]"):
        MindgymSelfConsistencyFilter(on_failure="keep", backend="api", model="fake")
    with pytest.raises(ValueError, match=r"language must be one of \['en', 'zh'\]"):
        MindgymDepthBreadthFilter(language="fr", backend="api", model="fake")


def test_self_consistency_band_with_a_scripted_solver(api_env, script, tmp_path):
    right = {"ZEROQ": 0, "HALFQ": 2, "ALLQ": 4}
    seen = {}

    def solve(body):
        word = next(w for w in right if w in user_text(body))
        seen[word] = seen.get(word, 0) + 1
        return json.dumps({"answer": "42 km" if seen[word] <= right[word] else "17 km"})

    script.overrides["solve"] = solve
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    stats, keep = run_filter(op, dataset([f"{w}: how far?" for w in right], ["42 kilometres"] * 3))
    assert [s["mindgym_solve_rate"] for s in stats] == [0.0, 0.5, 1.0]
    assert keep == [False, True, False]  # solved at least once and not every time
    assert op.counters.dropped == {"mindgym_solve_rate_too_hard": 1, "mindgym_solve_rate_too_easy": 1}
    rec = json.loads(stats[1]["mindgym_solve_record"])
    assert rec["method"] == "rule" and len(rec["attempts"]) == 4
    assert script.seen["agree"] == 0  # short numeric answers need no judge call
    wide = MindgymSelfConsistencyFilter(
        k=4, min_solve_rate=0.0, max_solve_rate=1.0, backend="api", model="fake", work_dir=str(tmp_path)
    )
    assert wide.in_band({"mindgym_solve_rate": 0.0}) and wide.in_band({"mindgym_solve_rate": 1.0})
    assert _warnings(op.log_summary) == []  # it kept a row


def test_a_filter_that_keeps_no_row_says_so_and_which_side_of_the_band_it_missed(api_env, script, tmp_path):
    """A job whose band keeps nothing ends "successfully" with an empty export: the op warns, with the
    counted reasons and the side the solver missed on."""
    script.overrides["solve"] = lambda body: json.dumps({"answer": "17 km"})
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    stats, keep = run_filter(op, dataset(["how far is A?", "how far is B?"], ["42 kilometres"] * 2))
    assert keep == [False, False]
    (line,) = _warnings(op.log_summary)
    assert "kept none of its 2 rows (mindgym_solve_rate_too_hard: 2)" in line
    assert "the solver (fake) solved 2 of them less often than min_solve_rate (0.25)" in line
    assert line.rstrip().endswith(
        "`mindgym-report <export_path>` shows the rows it dropped when the recipe opens Data-Juicer's "
        "tracer (open_tracer: true)"
    )
    script.overrides["solve"] = lambda body: json.dumps({"answer": "42 km"})
    easy = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path / "easy"))
    run_filter(easy, dataset(["how far is C?"], ["42 kilometres"]))
    (line,) = _warnings(easy.log_summary)
    assert (
        "(mindgym_solve_rate_too_easy: 1)" in line and "solved 1 of them more often than max_solve_rate (0.75)" in line
    )


def test_the_solver_reads_the_source_text_the_question_was_written_from(api_env, script, tmp_path):
    """A question about an invented report is a guess without the report; the solver reads it, as it sees
    an image row's images. `context_key: null` asks the question alone."""
    background = "In 1994 the Kessa court opened the Brandt case; it closed in 1997."

    def solve(body):  # right only when the report is there to read
        return json.dumps({"answer": "1994" if "<context>" in user_text(body) and "1994" in user_text(body) else "?"})

    def samples(text=background):  # fresh stats each time: a filter skips rows that already carry its stats
        rows = dataset(["When did the case open?", "When did it open, again?"], ["1994"] * 2)
        return dict(rows, background_document=[text, ""])

    script.overrides["solve"] = solve
    op = MindgymSelfConsistencyFilter(k=2, backend="api", model="fake", work_dir=str(tmp_path))
    stats, _ = run_filter(op, samples())
    assert [s["mindgym_solve_rate"] for s in stats] == [1.0, 0.0]  # the second row has no source text
    alone = MindgymSelfConsistencyFilter(k=2, context_key=None, backend="api", model="fake", work_dir=str(tmp_path))
    stats, _ = run_filter(alone, samples())
    assert [s["mindgym_solve_rate"] for s in stats] == [0.0, 0.0]
    short = MindgymSelfConsistencyFilter(k=2, max_context_tokens=8, backend="api", model="fake", work_dir=str(tmp_path))
    run_filter(short, samples(background + " Filler." * 200))
    last = [user_text(b) for b in api_env.stats.bodies if "When did the case open?" in user_text(b)][-1]
    assert "Kessa" in last and last.count("Filler.") < 10  # cut to about 8 tokens, at a sentence or word


def test_long_answers_go_to_the_judge_in_one_call_per_row(api_env, script, tmp_path):
    script.overrides["solve"] = lambda body: json.dumps({"answer": "It arrives on Thursday."})
    script.overrides["agree"] = judge_says(True, False, True, False)
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    long_answer = "The following Thursday, because the report is due within three days and meetings are Thursdays."
    stats, keep = run_filter(op, dataset(["when?", "when again?"], [long_answer] * 2))
    assert [s["mindgym_solve_rate"] for s in stats] == [0.5, 0.5] and keep == [True, True]
    assert script.seen["agree"] == 2 and script.seen["solve"] == 8
    assert json.loads(stats[0]["mindgym_solve_record"])["method"] == "judge"


def test_an_agreement_judge_that_calls_the_control_right_is_set_aside(api_env, script, tmp_path):
    """Seen on the 0.5B model: "3", "3", "1965, 1967, ..." and "6" were all "true" for a reference listing
    years; the question was dropped as solved every time. A judge that also calls the non-answer right
    is not reading: what only it could decide counts as unsolved, and the run says so."""
    answers = iter(["3", "6", "The station began in 1965.", "1965"])
    script.overrides["solve"] = lambda body: json.dumps({"answer": next(answers)})
    script.overrides["agree"] = lambda body: json.dumps(
        {"verdicts": [True] * len([ln for ln in user_text(body).splitlines() if ln[:1].isdigit()])}
    )
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    reference = "The station began collecting data in 1965, then again in 1967 and in 1968."
    stats, keep = run_filter(op, dataset(["How many years did the station collect data?"], [reference]))
    rec = json.loads(stats[0]["mindgym_solve_record"])
    assert rec["judge_control"] == "failed" and rec["verdicts"] == [False] * 4
    assert stats[0]["mindgym_solve_rate"] == 0.0 and keep == [False]
    assert op.counters.notes["agree_control"] == {"passed": 0, "failed": 1}
    (body,) = [b for b in api_env.stats.bodies if request_kind(b) == "agree"]
    shown = [ln[3:] for ln in user_text(body).splitlines() if ln[:1].isdigit()]
    assert shown in with_control("3", "6", "The station began in 1965.", "1965")
    # a judge that calls the control wrong is read as before
    answers = iter(["3", "6", "The station began in 1965.", "1965"])
    script.overrides["agree"] = judge_says(False, False, True, True)
    stats, keep = run_filter(op, dataset(["How many years did the station collect data?"], [reference]))
    rec = json.loads(stats[0]["mindgym_solve_record"])
    assert rec["judge_control"] == "passed" and rec["verdicts"] == [False, False, True, True] and keep == [True]
    # two worker processes' counts are summed, a calibration record is not
    from mindgym_ops.ops.counters import OpCounters

    other = OpCounters(op.counters.op_name, op.counters.instance_id, str(tmp_path))
    other.notes.update(agree_control={"passed": 3, "failed": 0}, judge_calibration={"ok": True, "auc": 1.0})
    op.counters.flush()
    other.flush()
    notes = op.counters.totals()["notes"]
    assert notes["agree_control"] == {"passed": 4, "failed": 1} and notes["judge_calibration"]["auc"] == 1.0


def test_a_difference_of_two_seed_answers_is_decided_by_the_rule(api_env, script, tmp_path):
    """Seen on the 0.5B model: "1" three times and "2022 - 2021 = 1 year." for a reference in two sentences;
    only the judge could decide them, and it calls anything right."""
    rec, keep = solve_over_seeds(
        script,
        tmp_path,
        ["3", "1997 - 1994 = 3 years", "7", "1994, 1995, 1996, 1997"],
        "How many years passed between when the case began and when the case ended?",
        "The case began in 1994 and ended in 1997. Three years passed between them: 3.",
        [("In which year did the case begin?", "1994"), ("In which year did the case end?", "1997")],
    )
    assert rec["verdicts"] == [True, True, False, False] and rec["method"] == "rule" and keep == [True]
    assert script.seen["agree"] == 0


def test_a_verified_answer_the_solver_misses_is_kept_as_hard_not_dropped(api_env, script, tmp_path):
    """The 0.5B solver cannot subtract two years, but code worked the answer out from two seed answers found in
    the document: the row is hard for this model, which is what the curriculum teaches, not wrong. It is kept,
    marked and counted apart; `keep_verified_hard: false` restores the strict band; a model-written answer the
    solver never reaches is still dropped as too hard, and the upper edge holds for every row."""
    script.overrides["solve"] = lambda body: json.dumps(
        {"answer": "1997 - 1994 = 7" if "case" in user_text(body) else "3"}
    )
    seeds = [{"question": "In which year did the case begin?", "answer": "1994"}]
    seeds.append({"question": "In which year did the case end?", "answer": "1997"})
    questions = ["How many years passed between when the case began and when the case ended?"] * 2
    samples = dataset(questions + ["How many years did the dam take to build?"], ["3 years"] * 3)
    samples["sub_questions"] = [seeds, seeds, seeds]
    samples["background_document"] = [
        "The Brandt case began in Kessa in 1994; Judge Hale closed it in 1997.",
        "The Brandt case began in Kessa; Judge Hale closed it years later.",  # the seed answers are not in it
        "The dam was built between 1994 and 1997.",
    ]
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    stats, keep = run_filter(op, samples)
    records = [json.loads(s["mindgym_solve_record"]) for s in stats]
    assert [s["mindgym_solve_rate"] for s in stats] == [0.0, 0.0, 1.0]
    assert [r["answer_source"] for r in records] == ["code", "model", "model"]
    assert keep == [True, False, False] and records[0]["verified_hard"] is True and "verified_hard" not in records[1]
    assert op.counters.notes["verified_hard"] == {"kept": 1}
    assert op.counters.dropped == {"mindgym_solve_rate_too_hard": 1, "mindgym_solve_rate_too_easy": 1}
    strict = MindgymSelfConsistencyFilter(
        k=4, keep_verified_hard=False, backend="api", model="fake", work_dir=str(tmp_path / "strict")
    )
    stats, keep = run_filter(strict, {**samples, Fields.stats: [{} for _ in range(3)]})
    assert keep == [False, False, False] and "verified_hard" not in strict.counters.notes
    assert json.loads(stats[0]["mindgym_solve_record"])["verified_hard"] is True  # still marked, not kept


@pytest.mark.parametrize(
    "ref,cand,expected",
    [
        ("42 km", "The distance is 42 kilometres.", True),
        ("42 km", "about 41 km", False),
        ("1,500 dollars", "$1500", True),
        ("3.5 hours", "3.50 h", True),
        ("B", "(B) because ...", True),
        ("B", "The answer is B.", True),
        ("(C)", "A", False),
        ("Paris", "paris", True),
        ("Paris", "the capital of France", None),
        ("The following Thursday, because the report is due within three days of Friday", "Thursday", None),
    ],
)
def test_normalised_matcher(ref, cand, expected):
    assert match(ref, cand) is expected


def test_image_records_send_the_image_to_the_judge(api_env, tmp_path):
    import base64
    import io

    from PIL import Image

    path = tmp_path / "chart.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    samples = dataset(["Which bar is tallest?", "A text-only question?"])
    samples["images"] = [[str(path)], []]
    op = MindgymDepthBreadthFilter(
        calibrate=False, image_root=str(tmp_path), backend="api", model="fake", work_dir=str(tmp_path)
    )
    run_filter(op, samples)
    bodies = {
        ("image" if any(isinstance(m["content"], list) for m in b["messages"]) else "text"): b
        for b in api_env.stats.bodies
    }
    assert set(bodies) == {"image", "text"}
    part = next(
        p
        for m in bodies["image"]["messages"]
        if isinstance(m["content"], list)
        for p in m["content"]
        if p["type"] == "image_url"
    )
    data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (40, 30) and im.convert("RGB").getpixel((5, 5)) == (200, 10, 10)


def test_rows_flagged_upstream_are_not_sent_to_the_judge(api_env, tmp_path):
    samples = dataset(["A real question?", ""])
    samples[Fields.meta] = [{"mindgym_failure": ""}, {"mindgym_failure": "mindgym_seed_qa_mapper:seed_qa_parse"}]
    op = MindgymDepthBreadthFilter(
        on_judge_failure="keep", calibrate=False, backend="api", model="fake", work_dir=str(tmp_path)
    )
    stats, keep = run_filter(op, samples)
    assert api_env.stats.requests == 1
    assert stats[1]["mindgym_depth"] == -1.0 and keep == [True, True]
    assert "flagged upstream" in json.loads(stats[1]["mindgym_judge_record"])["error"]["message"]
    assert op.counters.totals()["flagged"] == {"mindgym_depth_upstream_flagged": 1}


def _warnings(fn):
    from loguru import logger

    lines = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    try:
        fn()
    finally:
        logger.remove(sink)
    return lines


def test_calibration_probe_warns_only_when_the_judge_cannot_rank_the_anchors(api_env, script, tmp_path):
    from mindgym_ops.anchors import ANCHORS

    deep_anchors = [q for q, _ in ANCHORS["en"]["deep"]]
    script.overrides["judge"] = lambda body: json.dumps({"steps": list("abcde"), "knowledge_areas": list("vwxyz")})
    blind = MindgymDepthBreadthFilter(backend="api", model="fake", work_dir=str(tmp_path))
    stats = []
    lines = _warnings(lambda: stats.extend(run_filter(blind, dataset(["a question?"]))[0]))
    assert len(lines) == 1 and "ranks shallow and deep anchor questions poorly" in lines[0] and "AUC 0.5 " in lines[0]
    calibration = json.loads(stats[0]["mindgym_judge_record"])["judge_calibration"]
    assert calibration == {"ok": False, "auc": 0.5, "shallow": [10, 10, 10], "deep": [10, 10, 10]}

    def ranking(body):  # a judge that sees the difference: one step for a one-fact anchor, four for a deep one
        deep = any(q[:40] in user_text(body) for q in deep_anchors)
        return json.dumps({"steps": [f"s{i}" for i in range(4 if deep else 1)], "knowledge_areas": ["a", "b"]})

    script.overrides["judge"] = ranking
    sighted = MindgymDepthBreadthFilter(backend="api", model="fake", work_dir=str(tmp_path))
    stats.clear()
    assert _warnings(lambda: stats.extend(run_filter(sighted, dataset(["another question?"]))[0])) == []
    calibration = json.loads(stats[0]["mindgym_judge_record"])["judge_calibration"]
    assert calibration["ok"] and calibration["auc"] == 1.0 and calibration["deep"] == [6, 6, 6]


def test_agreement_judge_sees_only_parsed_attempts_and_must_give_one_verdict_each(api_env, script, tmp_path):
    calls = {"solve": 0, "agree": 0}

    def solve(body):  # three attempts parse, the fourth never does
        calls["solve"] += 1
        return json.dumps({"answer": "It arrives on Thursday."}) if calls["solve"] <= 3 else "no idea"

    def agree(body):  # first a short array (refused and retried), then one verdict per candidate
        calls["agree"] += 1
        return json.dumps({"verdicts": [True, False]}) if calls["agree"] == 1 else judge_says(True, False, True)(body)

    script.overrides.update(solve=solve, agree=agree)
    op = MindgymSelfConsistencyFilter(k=4, try_num=2, backend="api", model="fake", work_dir=str(tmp_path))
    long_answer = "The following Thursday, because the report is due within three days and meetings are Thursdays."
    stats, keep = run_filter(op, dataset(["when?"], [long_answer]))
    rec = json.loads(stats[0]["mindgym_solve_record"])
    assert rec["attempts"].count(None) == 1 and rec["method"] == "judge" and "error" not in rec
    assert stats[0]["mindgym_solve_rate"] == 0.5 and keep == [True]
    agree_bodies = [b for b in api_env.stats.bodies if request_kind(b) == "agree"]
    assert len(agree_bodies) == 2  # the short array was retried, not counted as a failure
    shown = [ln for ln in user_text(agree_bodies[0]).splitlines() if ln[:1].isdigit()]
    assert len(shown) == 4 and "(no answer)" not in user_text(agree_bodies[0])  # three attempts, the control
    schema = agree_bodies[0]["response_format"]["json_schema"]["schema"]["properties"]["verdicts"]
    assert schema["minItems"] == schema["maxItems"] == 4


def test_request_cache_keys_are_stable_across_the_op_contract():
    """The keys the ops sent before the one-contract refactor: a rerun still finds its cached replies."""
    from mindgym_ops.ops.base import Request

    assert [Request([], None, n=4, tag="#solve", numbered=True).key("r3", j) for j in (0, 3)] == [
        "r3#solve0",
        "r3#solve3",
    ]
    assert Request([], None, n=1, tag="#solve", numbered=True).key("r3", 0) == "r3#solve0"  # k: 1
    assert Request([], None, tag="#agree").key("r3", 0) == "r3#agree"
    assert Request([], None).key("r3+r4", 0) == "r3+r4"  # mappers and the depth judge: the row id itself


def test_attempts_the_rule_decides_keep_their_verdict_when_the_judge_is_asked(api_env, script, tmp_path):
    """Seen on the 0.5B model: one attempt named the wrong option, two gave a number; the agreement judge,
    asked about all four, said "true" to each, and the question was dropped as solved every time."""
    answers = iter(["the school", "the cafeteria", "$80,000", "the school"])
    script.overrides["solve"] = lambda body: json.dumps({"answer": next(answers)})
    script.overrides["agree"] = judge_says(True)
    op = MindgymSelfConsistencyFilter(k=4, backend="api", model="fake", work_dir=str(tmp_path))
    q = "Which is greater: the amount spent on the school, or the amount spent on the cafeteria?"
    stats, keep = run_filter(op, dataset([q], ["The school, because it got $80,000 and the cafeteria $50,000."]))
    rec = json.loads(stats[0]["mindgym_solve_record"])
    assert rec["verdicts"] == [True, False, True, True] and rec["method"] == "rule+judge"
    assert stats[0]["mindgym_solve_rate"] == 0.75 and keep == [True]
    (body,) = [b for b in api_env.stats.bodies if request_kind(b) == "agree"]
    assert [ln[3:] for ln in user_text(body).splitlines() if ln[:1].isdigit()] in with_control("$80,000")


def test_a_choice_attempt_that_gives_a_value_is_decided_by_the_seed_it_belongs_to(api_env, script, tmp_path):
    """Seen on the 0.5B model with the report to read: "$50,000", "80000" for "Which is greater: the school's
    amount, or the cafeteria's?"; the agreement judge said "true" to both."""
    script.overrides["agree"] = judge_says(True)
    rec, _ = solve_over_seeds(
        script,
        tmp_path,
        ["$50,000", "80000", "the cafeteria", "I cannot tell", "200000", "200000 for the school"],
        "Which is greater: the total amount spent on the school in 2000, or the total amount spent on the cafeteria?",
        "The total amount spent on the school in 2000, since $80,000 is more than $50,000.",
        [
            ("What was the total amount spent on the school in 2000?", "$80,000"),
            ("What was the total amount spent on the cafeteria in 2000?", "$50,000"),
        ],
    )
    # "200000" is neither option's value and names no option (seen: the judge said "true" to it); with the
    # school named, the words decide
    assert rec["verdicts"] == [False, True, False, True, False, True] and rec["method"] == "rule+judge"
    (body,) = [b for b in api_env.stats.bodies if request_kind(b) == "agree"]
    assert [ln[3:] for ln in user_text(body).splitlines() if ln[:1].isdigit()] in with_control("I cannot tell")
