from collections import Counter

import pytest

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
