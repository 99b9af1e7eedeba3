"""The from-scratch formatter: numbered, string-typed rows on either executor; bad config fails at once; the row
count and op numbers can be set from the dj-process command line."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import api_run_env, read_jsonl, recipe_copy
from mindgym_script import request_kind, user_text

from mindgym_ops.formatters import MindgymScratchFormatter


def test_default_executor_rows_are_numbered_and_typed():
    ds = MindgymScratchFormatter(length=3, feature_keys=["text", "query"]).load_dataset()
    assert ds["mindgym_row_id"] == ["r0", "r1", "r2"]
    assert ds["text"] == [None, None, None]
    assert {k: str(v.dtype) for k, v in ds.features.items()} == {
        "mindgym_row_id": "string",
        "text": "string",
        "query": "string",
    }


@pytest.mark.parametrize(
    "kwargs, field",
    [({"length": 0}, "length"), ({"length": "eight"}, "length"), ({"length": 2, "executor": "spark"}, "executor")],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"generated_dataset_config.{field} must be"):
        MindgymScratchFormatter(**kwargs)


@pytest.mark.parametrize("value, rows", [("5", 5), (" 12 ", 12), (3, 3)])
def test_length_accepts_its_decimal_string(value, rows):
    assert MindgymScratchFormatter(length=value).length == rows


@pytest.mark.parametrize("value", ["abc", "0", "-3", "2.5", "1e3", "", True, 2.0])
def test_length_still_refuses_what_is_not_a_positive_integer(value):
    with pytest.raises(ValueError, match=r"^generated_dataset_config.length must be a positive integer, got "):
        MindgymScratchFormatter(length=value)


def test_row_count_and_op_numbers_from_the_dj_process_command_line(tmp_path, server, script):
    """Data-Juicer hands nested overrides over as strings ("5"); op params arrive typed from their hints."""
    script.solve_every = 2  # right on the 2nd of 3 attempts: solve rate 1/3, inside the band
    judged = []
    scripted_judge = script._judge  # whatever reply format the judge asks for; only the depth is changed

    def judge(body):
        if "doubled the figure" in user_text(body):  # a row, not one of the judge's calibration anchors
            judged.append(body)
            script.depth = 3 if len(judged) == 1 else 5  # one row under --...min_depth 4 (the recipe says 2)
        else:
            script.depth = 5
        return scripted_judge(body)

    script.overrides["judge"] = judge
    overrides = {
        "generated_dataset_config.length": "5",
        "mindgym_seed_qa_mapper.max_seeds": "2",
        "mindgym_depth_breadth_filter.min_depth": "4",
        "mindgym_self_consistency_filter.k": "3",
    }
    argv = [
        str(Path(sys.executable).parent / "dj-process"),
        "--config",
        str(recipe_copy("mindgym_text.yaml", tmp_path)),
    ]
    for key, value in overrides.items():
        argv += [f"--{key}", value]
    done = subprocess.run(argv, env=api_run_env(server), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "mindgym_background_mapper: 5 rows in, kept 5" in done.stderr
    seeds = [user_text(b) for b in server.stats.bodies if request_kind(b) == "seed_qa"]
    assert len(seeds) == 5 and all("between 2 and 2 single-hop questions" in s for s in seeds)
    assert len(judged) == 5 and script.seen["solve"] == 4 * 3  # the depth-3 row never reached the solver
    rows = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(rows) == 4 and all(len(r["sub_questions"]) == 2 for r in rows)
    assert all(s["__dj__stats__"]["mindgym_depth"] == 5 for s in read_jsonl(tmp_path / "out" / "result_stats.jsonl"))
