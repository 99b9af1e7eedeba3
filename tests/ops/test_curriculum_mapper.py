import json
from collections import Counter

import pytest
import yaml
from helpers import ROOT, dj_env, read_jsonl, run_dj, write_recipe

from mindgym_ops.ops.mindgym_curriculum_mapper import MindgymCurriculumMapper


def records(n, language="en", images=None):
    return {
        "mindgym_row_id": [f"r{i}" for i in range(n)],
        "language": [language] * n,
        "multihop_question": [f"Q{i}?" for i in range(n)],
        "multihop_answer": [f"A{i}" for i in range(n)],
        "thinking": [f"T{i}" for i in range(n)],
        "images": [images or []] * n,
    }


def test_round_robin_gives_disjoint_quarters():
    out = MindgymCurriculumMapper().process_batched(records(8))
    assert Counter(out["curriculum_stage"]) == {1: 2, 2: 2, 3: 2, 4: 2}
    assert len(set(out["mindgym_row_id"])) == 8
    # the records the filters kept, whatever their row numbers (r0, r4, r8, r12 all leave 0 by 4), share the stages
    rows = records(5)
    rows["mindgym_row_id"] = ["r0", "r4", "r8", "r12", "r16"]
    rows["thinking"][2] = ""  # left out: the next complete record takes its turn
    out = MindgymCurriculumMapper().process_batched(rows)
    assert out["curriculum_stage"] == [1, 2, 3, 4] and out["mindgym_row_id"] == ["r0", "r4", "r12", "r16"]


def test_all_puts_every_record_in_every_stage_with_the_right_sides():
    out = MindgymCurriculumMapper(split="all").process_batched(records(1))
    by_stage = {s: m for s, m in zip(out["curriculum_stage"], out["messages"])}
    user = {s: m[0]["content"] for s, m in by_stage.items()}
    target = {s: m[1]["content"] for s, m in by_stage.items()}
    assert "T0" in user[1] and "A0" not in user[1] and target[1] == "Answer: A0"  # Q + T -> A
    assert "A0" in user[2] and target[2] == "Thinking: T0"  # Q + A -> T
    assert "A0" not in user[3] and "T0" not in user[3] and target[3] == "Answer: A0\n\nThinking: T0"
    assert "A0" not in user[4] and "T0" not in user[4] and target[4] == "Answer: A0"  # Q -> A
    assert all(m[0]["role"] == "user" and m[1]["role"] == "assistant" for m in by_stage.values())


DOC = "In 1994 the case began in Elmwood. Judge Hale closed it in 1997, after 212 hearings."


def test_text_rows_carry_their_document_in_front_of_the_question():
    """A question about invented facts is answerable only with them: every stage row of a text record holds the
    record's document before its question, in both languages; the bare format leaves it out."""
    for language, label, q_label in (("en", "Document:", "Question:"), ("zh", "文档：", "问题：")):
        rows = records(1, language)
        rows["background_document"] = [DOC]
        rows["__dj__meta__"] = [{}]
        out = MindgymCurriculumMapper(split="all").process_batched(rows)
        assert len(out["messages"]) == 4
        for messages, meta in zip(out["messages"], out["__dj__meta__"]):
            user = messages[0]["content"]
            assert DOC in user and user.index(label) < user.index(DOC) < user.index(
                q_label + (" " if language == "en" else "") + "Q0?"
            )
            assert json.loads(meta["mindgym_curriculum"]) == {
                "grounding": "document",
                "document_cut": False,
                "thinking_first": False,
            }
        bare = MindgymCurriculumMapper(split="all", grounded=False).process_batched(rows)
        assert all(DOC not in m[0]["content"] and label not in m[0]["content"] for m in bare["messages"])
        assert json.loads(bare["__dj__meta__"][0]["mindgym_curriculum"])["grounding"] == "none"


def test_a_long_document_is_cut_and_the_cut_recorded():
    rows = records(1)
    rows["background_document"] = [" ".join([DOC] * 200)]
    out = MindgymCurriculumMapper(split="all", max_document_tokens=100).process_batched(rows)
    user = out["messages"][0][0]["content"]
    assert DOC in user and user.count("Judge Hale") < 10
    assert json.loads(out["__dj__meta__"][0]["mindgym_curriculum"])["document_cut"] is True


def test_image_records_carry_their_images_not_a_document():
    rows = records(1, images=["/d/a.png"])
    rows["background_document"] = [DOC]
    out = MindgymCurriculumMapper(split="all", image_root="/d").process_batched(rows)
    assert all(m[0]["content"].startswith("<image>\n") and DOC not in m[0]["content"] for m in out["messages"])
    assert json.loads(out["__dj__meta__"][0]["mindgym_curriculum"])["grounding"] == "images"


def test_thinking_first_puts_the_reasoning_before_the_answer_in_stage_3():
    out = MindgymCurriculumMapper(split="all", thinking_first=True).process_batched(records(1))
    user, target = [
        (m[0]["content"], m[1]["content"]) for s, m in zip(out["curriculum_stage"], out["messages"]) if s == 3
    ][0]
    assert target == "Thinking: T0\n\nAnswer: A0"
    assert user.startswith("Think through the challenging question below step by step, then give the answer.")
    paper = MindgymCurriculumMapper(split="all").process_batched(records(1))
    assert paper["messages"][2][1]["content"] == "Answer: A0\n\nThinking: T0"


def test_chinese_instructions_and_image_tags():
    out = MindgymCurriculumMapper(split="all", image_root="/d").process_batched(records(1, "zh", images=["/d/a.png"]))
    first = out["messages"][0]
    assert first[0]["content"].startswith("<image>\n") and "问题：Q0?" in first[0]["content"]
    assert first[1]["content"].startswith("答案：")
    assert out["images"][0] == ["/d/a.png"]


def test_incomplete_records_are_skipped_and_bad_split_refused():
    rows = records(2)
    rows["thinking"][1] = ""
    out = MindgymCurriculumMapper(split="all").process_batched(rows)
    assert set(out["mindgym_row_id"]) == {"r0"}
    with pytest.raises(ValueError, match=r"split must be one of \['round_robin', 'all'\]"):
        MindgymCurriculumMapper(split="halves")


def test_open_tracer_lists_the_records_left_out_through_dj_process(tmp_path):
    """With Data-Juicer's tracer open, a mapper that drops and adds rows was traced against the wrong rows (the
    n-th row in against the n-th out: stage rows of r0 as changes of r1 and r2); now only the record left out is
    traced, with its reason, and every complete record still gives its four stage rows."""
    data = records(3)
    data["thinking"][1] = ""
    data["query"] = data["multihop_question"]  # the recipe's text key, as in a real export
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps({k: v[i] for k, v in data.items()}) + "\n" for i in range(3)))
    recipe = yaml.safe_load((ROOT / "recipes" / "mindgym_curriculum.yaml").read_text())
    recipe.update(dataset_path=str(path), export_path=str(tmp_path / "out" / "curriculum.jsonl"), open_tracer=True)
    recipe["process"] = [{"mindgym_curriculum_mapper": {"split": "all"}}]
    done = run_dj(write_recipe(tmp_path, recipe), dj_env())
    assert done.returncode == 0, done.stderr[-4000:]
    out = read_jsonl(tmp_path / "out" / "curriculum.jsonl")
    assert Counter(r["mindgym_row_id"] for r in out) == {"r0": 4, "r2": 4}
    (job,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    (traced,) = read_jsonl(job / "trace" / "sample_trace-mindgym_curriculum_mapper.jsonl")
    assert traced["mindgym_row_id"] == "r1" and traced["thinking"] == ""
    assert traced["__dj__meta__"]["mindgym_failure"] == "mindgym_curriculum_mapper:curriculum_incomplete"
