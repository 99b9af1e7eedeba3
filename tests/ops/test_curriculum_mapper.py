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


def test_chinese_instructions_and_image_tags():
    out = MindgymCurriculumMapper(split="all").process_batched(records(1, "zh", images=["/d/a.png"]))
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
