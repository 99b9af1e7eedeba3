"""The generation mappers on small datasets against the scripted loopback server."""

import json

import pytest
from data_juicer.utils.constant import Fields
from mindgym_script import user_text

from mindgym_ops.ops.mindgym_background_mapper import MindgymBackgroundMapper
from mindgym_ops.ops.mindgym_multihop_qa_mapper import MindgymMultihopQaMapper
from mindgym_ops.ops.mindgym_seed_qa_mapper import MindgymSeedQaMapper

SEEDS = [
    {"question": "Who measured on Monday?", "answer": "Mara Quist"},
    {"question": "When did the council meet?", "answer": "Thursday"},
]
DOC = "Mara Quist measured 24 units on Monday, and the council met on Thursday."  # holds the seed answers


def empty_rows(n):
    return {"text": [None] * n, "mindgym_row_id": [f"r{i}" for i in range(n)], Fields.meta: [{} for _ in range(n)]}


def seeded_rows(backgrounds, seeds=True):
    n = len(backgrounds)
    rows = {
        "background_document": backgrounds,
        "reasoning_category": ["Historical Events"] * n,
        "mindgym_row_id": [f"r{i}" for i in range(n)],
        "images": [[]] * n,
        Fields.meta: [{} for _ in range(n)],
    }
    if seeds:
        rows.update(sub_questions=[SEEDS] * n, relationship_category=["Bridging"] * n)
    return rows


def test_background_round_robin_and_corpus_cut(api_env, tmp_path):
    op = MindgymBackgroundMapper(
        categories=["Logical Deduction", "Economic Principles"],
        max_background_tokens=50,
        backend="api",
        model="fake",
        work_dir=str(tmp_path),
    )
    long_text = "The exchange opened in 1847. " * 60
    out = op.process_batched(
        {"text": [None, long_text, "", None], "mindgym_row_id": ["r0", "r1", "r2", "r3"], Fields.meta: [{}, {}, {}, {}]}
    )
    assert out["reasoning_category"] == ["Logical Deduction", "Economic Principles"] * 2
    assert api_env.stats.requests == 3  # the corpus row needs no model call
    prov = json.loads(out[Fields.meta][1]["mindgym_background"])
    assert prov["mode"] == "corpus" and prov["cut"] is True and prov["original_chars"] == len(long_text)
    assert len(out["background_document"][1]) < len(long_text) and out["background_document"][1].endswith(".")
    assert all(len(out["background_document"][i].split()) >= 60 for i in (0, 2, 3))  # generated ones


def test_bad_text_type_is_dropped_with_a_counted_reason(api_env, tmp_path):
    op = MindgymBackgroundMapper(backend="api", model="fake", work_dir=str(tmp_path))
    out = op.process_batched({"text": [None, 12345], "mindgym_row_id": ["r0", "r1"], Fields.meta: [{}, {}]})
    assert out["mindgym_row_id"] == ["r0"]
    assert op.counters.totals()["dropped"] == {"background_input": 1}


@pytest.mark.parametrize("on_failure", ["drop", "flag"])
def test_unparseable_seed_replies_drop_or_flag(api_env, script, tmp_path, on_failure):
    script.overrides["seed_qa"] = lambda body: "Sorry, I cannot help with that."
    op = MindgymSeedQaMapper(on_failure=on_failure, try_num=2, backend="api", model="fake", work_dir=str(tmp_path))
    out = op.process_batched(seeded_rows(["Doc one is long enough."], seeds=False))
    assert api_env.stats.requests == 2
    if on_failure == "drop":
        assert out["mindgym_row_id"] == []
        assert op.counters.totals()["dropped"] == {"seed_qa_parse": 1}
    else:
        assert out["sub_questions"] == [[]] and out["relationship_category"] == [""]
        assert out[Fields.meta][0]["mindgym_failure"] == "mindgym_seed_qa_mapper:seed_qa_parse"
        # the next op passes a flagged row through without calling the model
        nxt = MindgymMultihopQaMapper(backend="api", model="fake", work_dir=str(tmp_path))
        passed = nxt.process_batched(out)
        assert passed["multihop_question"] == [""] and api_env.stats.requests == 2


def test_seed_principle_outside_the_allowed_set_is_retried(api_env, script, tmp_path):
    replies = iter(["Causal Inference", "Comparison"])

    def seed(body):
        return json.dumps({"relationship_category": next(replies), "sub_questions": SEEDS})

    script.overrides["seed_qa"] = seed
    op = MindgymSeedQaMapper(backend="api", model="fake", work_dir=str(tmp_path))
    out = op.process_batched(seeded_rows([DOC], seeds=False))
    assert out["relationship_category"] == ["Comparison"] and api_env.stats.requests == 2
    schema = api_env.stats.bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["relationship_category"]["enum"] == ["Bridging", "Comparison", "Temporal"]


def test_thinking_protocol_on_off_and_replaced(api_env, tmp_path):
    rows = seeded_rows(["Doc."])
    MindgymMultihopQaMapper(backend="api", model="fake", work_dir=str(tmp_path)).process_batched(rows)
    assert api_env.stats.bodies[-1]["messages"][0]["role"] == "system"
    MindgymMultihopQaMapper(
        thinking_protocol=False, backend="api", model="fake", work_dir=str(tmp_path)
    ).process_batched(seeded_rows(["Doc."]))
    assert [m["role"] for m in api_env.stats.bodies[-1]["messages"]] == ["user"]
    MindgymMultihopQaMapper(
        prompt_templates={"thinking_protocol": "Think in three short steps."},
        backend="api",
        model="fake",
        work_dir=str(tmp_path),
    ).process_batched(seeded_rows(["Doc."]))
    assert api_env.stats.bodies[-1]["messages"][0]["content"] == "Think in three short steps."


def test_multihop_writes_query_response_and_provenance(api_env, tmp_path):
    op = MindgymMultihopQaMapper(backend="api", model="fake", work_dir=str(tmp_path))
    out = op.process_batched(seeded_rows(["Doc A about the council.", "Doc B about the council."]))
    assert out["query"] == out["multihop_question"] and out["response"] == out["multihop_answer"]
    assert all(out["thinking"]) and all(out["multihop_question"])
    prov = json.loads(out[Fields.meta][0]["mindgym_multihop"])
    assert prov["row_id"] == "r0" and prov["templates"] == ["multihop_qa@5", "thinking_protocol@1"]
    assert prov["usage"]["prompt_tokens"] > 50 and prov["attempts"] == 1


def test_a_question_that_leaves_its_worked_draft_is_retried_and_the_record_says_code_worked_its_answer_out(
    api_env, script, tmp_path
):
    """Seen in the main job on the 0.5B model: shown "How many years passed between when the station was built and
    when it was named?" (1965, 1967), it wrote "How many years did El Dorado Mountain Weather Station begin
    collecting data in each year?", which no code can check. Such a reply is refused with the draft in the reason;
    a reply that keeps the draft's two parts is kept, `answer_source: code`."""
    seeds = [
        {"question": "In which year was the El Dorado station built?", "answer": "1965"},
        {"question": "In which year was the El Dorado station named?", "answer": "1967"},
    ]
    draft = (
        "How many years passed between when the El Dorado station was built and when the El Dorado station was named?"
    )
    replies = iter(
        [
            ("How many years did the El Dorado station begin collecting data in each year?", "1965, 1967 and 1968."),
            (draft, "2 years, from 1965 to 1967."),
        ]
    )

    bodies = []

    def multihop(body):
        bodies.append(body)
        question, answer = next(replies)
        return json.dumps(
            {
                "thinking": "Find when it was built, then when it was named.",
                "multihop_question": question,
                "multihop_answer": answer,
            }
        )

    script.overrides["multihop"] = multihop
    rows = seeded_rows(
        ["The El Dorado station was built in 1965 by Ann Lee and named in 1967 by Bo Park."], seeds=False
    )
    rows.update(sub_questions=[seeds], relationship_category=["Temporal"], language=["en"])
    op = MindgymMultihopQaMapper(backend="api", model="fake", work_dir=str(tmp_path))
    out = op.process_batched(rows)
    assert out["multihop_question"] == [draft] and out["answer_source"] == ["code"]
    assert json.loads(out[Fields.meta][0]["mindgym_multihop"])["attempts"] == 2
    feedback = user_text(bodies[-1])  # the retry's last user turn: the reason, with the draft's answer
    assert "leaves the suggested question" in feedback and "'2 years'" in feedback
    # verify_drafts: false keeps the first question, the model's word
    replies = iter([("How many years did the El Dorado station begin collecting data in each year?", "1965, 1967.")])
    loose = MindgymMultihopQaMapper(verify_drafts=False, backend="api", model="fake", work_dir=str(tmp_path / "loose"))
    out = loose.process_batched(rows)
    assert out["answer_source"] == ["model"]


def test_across_rows_bridges_similar_rows_and_names_both(api_env, tmp_path):
    docs = [
        "The Halden grain exchange charged merchants silver coins per wagon near the river port.",
        "Bakery flour prices rose while pastry sales fell on Tuesday.",
        "Railway wagons reached the Halden grain exchange and paid half the river port fee.",
        "Pastry prices at the bakery rose by a fifth on Tuesday.",
    ]
    op = MindgymMultihopQaMapper(
        combine="across_rows", pair_by="lexical", backend="api", model="fake", work_dir=str(tmp_path)
    )
    out = op.process_batched(seeded_rows(docs))
    assert sorted(out["mindgym_row_id"]) == ["r0+r2", "r1+r3"]
    for meta in out[Fields.meta]:
        prov = json.loads(meta["mindgym_multihop"])
        assert prov["combine"] == "across_rows" and len(prov["source_rows"]) == 2 and prov["pair_method"] == "lexical"
    prompts = [user_text(b) for b in api_env.stats.bodies]
    assert all("<source1>" in p and "<source2>" in p for p in prompts)


def test_config_errors_name_the_field_and_allowed_values():
    with pytest.raises(ValueError, match=r"categories must be one of \['Mathematical Reasoning'.*got 'Cooking'"):
        MindgymBackgroundMapper(categories=["Cooking"], backend="api", model="fake")
    with pytest.raises(ValueError, match=r"principles must be one of \['Bridging', 'Comparison', 'Temporal'\]"):
        MindgymSeedQaMapper(principles=["Spatial Reasoning"], backend="api", model="fake")
    with pytest.raises(ValueError, match=r"combine must be one of \['within_row', 'across_rows'\]"):
        MindgymMultihopQaMapper(combine="pairs", backend="api", model="fake")
    with pytest.raises(ValueError, match=r"on_failure must be one of \['drop', 'flag'\]"):
        MindgymSeedQaMapper(on_failure="ignore", backend="api", model="fake")


def test_in_process_gpu_backends_default_to_one_worker_unless_the_recipe_asks():
    # hf and vllm load a model per worker: one by default; a Ray actor pool asks for more explicitly
    assert MindgymSeedQaMapper(backend="hf", model="any/model").num_proc == 1
    assert MindgymSeedQaMapper(backend="hf", model="any/model", num_proc=3).num_proc == 3
