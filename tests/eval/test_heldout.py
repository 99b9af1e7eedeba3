"""The held-out set (mindgym-heldout: MindGYM records in the GSM8K layout) and what the evaluator reads off
evalscope's reviews: the interval of a score and the share of replies that reason before they answer."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mindgym_train.metrics import answer_position, reasons_first, review_figures, wilson

SEEDS = [
    {"question": "In which year did the case begin?", "answer": "1994"},
    {"question": "In which year did the case end?", "answer": "1997"},
]


def record(**changes):
    base = {
        "language": "en",
        "background_document": "The Brandt case began in Kessa in 1994. Judge Hale closed it in 1997.",
        "sub_questions": SEEDS,
        "multihop_question": "How many years passed between when the case began and when the case ended?",
        "multihop_answer": "3 years",
        "thinking": "Find when the case began and when it ended, then subtract.",
        "answer_source": "code",
    }
    return {**base, **changes}


def test_heldout_set_keeps_numeric_answers_known_to_be_right(tmp_path):
    records = [
        record(),
        record(answer_source="model", multihop_answer="Judge Hale"),  # the model's word, and no number
        record(answer_source="model", multihop_answer="212 hearings"),  # one number, but unverified
        record(answer_source="code", multihop_question="Which is greater: the school, or the cafeteria?"),
        record(images=["/d/a.png"]),
    ]
    src = tmp_path / "records.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records))
    cmd = [str(Path(sys.executable).parent / "mindgym-heldout"), str(src), "--out", str(tmp_path / "set")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "written": 1,
        "left_out_unverified": 2,
        "left_out_not_a_number": 1,
        "left_out_image": 1,
    }
    (row,) = [json.loads(line) for line in open(tmp_path / "set" / "main" / "test.jsonl")]
    assert row["question"].startswith("Document:\nThe Brandt case began in Kessa in 1994.")
    assert row["question"].endswith(
        "\n\nQuestion: How many years passed between when the case began and when the case ended?"
    )
    assert row["answer"].endswith("then subtract.\n#### 3")  # the difference the seed answers give
    assert "config_name: main" in (tmp_path / "set" / "README.md").read_text()
    done = subprocess.run(cmd + ["--unverified"], capture_output=True, text=True)
    assert json.loads(done.stdout)["written"] == 2  # "212 hearings" too, at the user's word
    # nothing usable: one line, non-zero exit
    src.write_text(json.dumps(records[1]) + "\n")
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode != 0 and done.stderr.splitlines()[-1].startswith("mindgym-heldout: no record of")


def test_wilson_interval():
    low, high = wilson(31, 40)
    assert (round(low, 3), round(high, 3)) == (0.625, 0.877)
    assert wilson(0, 40)[0] == 0.0 and 0.08 < wilson(0, 40)[1] < 0.09
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    "reply,first",
    [
        ("Answer: 14 years", False),  # what the paper's last stage taught the 0.5B: no working
        ("Answer: 3 years\n\nThinking: The case began in 1994 and ended in 1997, so 1997 - 1994 = 3.", False),
        ("The case began in 1994 and ended in 1997. 1997 - 1994 = 3, so the answer is \\boxed{3}.", True),
        ("Thinking: the case began in 1994 and it ended in 1997.\n\nAnswer: 3 years", True),
        ("The case began in 1994 and ended in 1997, so 3 years passed", True),  # no marker: the last number
        ("3", False),
        ("I cannot tell.", False),
    ],
)
def test_a_reply_reasons_first_when_working_comes_before_its_answer(reply, first):
    assert reasons_first(reply) is first
    assert answer_position("no number at all") is None


def test_review_figures_read_evalscope_reviews(tmp_path):
    folder = tmp_path / "reviews" / "stage4"
    folder.mkdir(parents=True)
    rows = [
        ("Answer: 14 years", 0.0),
        ("1997 - 1994 = 3 because the case began in 1994 and ended in 1997. \\boxed{3}", 1.0),
    ]
    with open(folder / "gsm8k_main.jsonl", "w") as f:
        for reply, score in rows:
            messages = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": reply}]
            f.write(
                json.dumps({"index": 0, "messages": messages, "sample_score": {"score": {"value": {"acc": score}}}})
                + "\n"
            )
    assert review_figures(str(tmp_path), "stage4", "gsm8k") == {"n": 2, "correct": 1.0, "reasons_first": 1}
    assert review_figures(str(tmp_path), "base", "gsm8k") == {"n": 0, "correct": 0.0, "reasons_first": 0}
