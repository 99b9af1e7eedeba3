"""Every console script as a user runs it (a real process): exit 0 on success; on failure a non-zero exit with the
error on one line, prefixed by the script's name, and no traceback. mindgym-eval's own cases, a real evaluation
included, are in tests/eval/test_eval_exit_status.py."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import ROOT, api_run_env, recipe_copy, run_dj
from seed_data import encoded, okvqa_parquet, scienceqa_release

BIN = Path(sys.executable).parent
# importing the pack imports Data-Juicer, which logs its plugin discovery: a log record, not part of the error
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \| [A-Z]+ +\| ")


def run(script, *args, cwd=None):
    return subprocess.run([str(BIN / script), *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


def assert_one_line_failure(done, script, expected):
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if not LOG_RECORD.match(ln)]
    assert lines == [lines[0]] and lines[0].startswith(f"{script}: ") and expected in lines[0], done.stderr


def test_seed_set_converters_exit_0_and_print_their_counts(tmp_path):
    done = run("mindgym-okvqa", "--parquet", okvqa_parquet(tmp_path / "ok.parquet"), "--out", tmp_path / "ok")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 3 and len((tmp_path / "ok" / "okvqa.jsonl").read_text().splitlines()) == 3
    release = scienceqa_release(tmp_path / "release")
    done = run("mindgym-scienceqa", "--release", release, "--split", "val", "--out", tmp_path / "sqa")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 1
    row = {"image": {"bytes": encoded("red"), "path": None}, "question": "Which?", "choices": ["a", "b"], "answer": 1}
    pq.write_table(pa.Table.from_pylist([row]), tmp_path / "sqa.parquet")
    done = run("mindgym-scienceqa", "--parquet", tmp_path / "sqa.parquet", "--out", tmp_path / "sqa")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 1


@pytest.mark.parametrize("script", ["mindgym-scienceqa", "mindgym-okvqa"])
def test_seed_set_converters_fail_on_one_line(tmp_path, script):
    (tmp_path / "not.parquet").write_text("x")
    pq.write_table(pa.table({"question": ["q"]}), tmp_path / "other.parquet")
    cases = [
        (["--parquet", tmp_path / "missing.parquet"], "parquet file not found"),
        (["--parquet", tmp_path / "not.parquet"], "not.parquet: not a parquet file"),
        (["--parquet", tmp_path / "other.parquet"], "other.parquet: not a"),
        (["--parquet", tmp_path / "other.parquet", "--limit", "0"], "--limit must be a positive integer, got 0"),
    ]
    for args, expected in cases:
        assert_one_line_failure(run(script, *args, "--out", tmp_path / "out"), script, expected)


def test_scienceqa_release_layout_failures_are_one_line(tmp_path):
    script = "mindgym-scienceqa"
    done = run(script, "--release", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert_one_line_failure(done, script, "release folder not found")
    done = run(script, "--release", tmp_path, "--out", tmp_path / "out")
    assert_one_line_failure(done, script, "not a ScienceQA release folder: problems.json not found")
    (tmp_path / "problems.json").write_text("{}")
    (tmp_path / "pid_splits.json").write_text('{"train": [], "val": []}')
    done = run(script, "--release", tmp_path, "--split", "dev", "--out", tmp_path / "out")
    assert_one_line_failure(done, script, "split must be one of ['train', 'val']")
    assert run(script, "--release", tmp_path, "--split", "val", "--out", tmp_path / "out").returncode == 0


def test_mindgym_train_exit_statuses(tmp_path):
    """Success here is the dry run (real training runs in tests/train/test_curriculum_cpu.py, also as a process)."""
    config = ROOT / "configs" / "curriculum_tiny_cpu.yaml"
    assert run("mindgym-train", "--config", config, "--dry-run").returncode == 0
    cfg = yaml.safe_load(config.read_text())
    cfg["stages"][0]["tuner_type"] = "qlora"
    cfg["base_model"] = str(tmp_path)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(cfg))
    done = run("mindgym-train", "--config", tmp_path / "bad.yaml")
    assert_one_line_failure(done, "mindgym-train", "stage 1: tuner_type must be one of ['lora', 'full'], got 'qlora'")
    done = run("mindgym-train", "--config", tmp_path / "missing.yaml", "--dry-run")
    assert_one_line_failure(done, "mindgym-train", "config file not found")


def test_mindgym_eval_exit_status_on_a_bad_config(tmp_path):
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump({"output_dir": "out", "benchmarks": ["mmlu"]}))
    done = run("mindgym-eval", "--config", tmp_path / "eval.yaml")
    assert_one_line_failure(done, "mindgym-eval", "no models to evaluate")


@pytest.mark.skipif(
    importlib.util.find_spec("mindgym_ops.report") is None, reason="mindgym_ops/report is not written yet"
)
def test_mindgym_report_exit_statuses(tmp_path, server, script):
    script.solve_every = 2
    done = run_dj(recipe_copy("mindgym_text.yaml", tmp_path, length=2), api_run_env(server))
    assert done.returncode == 0, done.stderr[-3000:]
    done = run("mindgym-report", tmp_path / "out" / "result.jsonl")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "out" / "report.html").is_file()
    done = run("mindgym-report", tmp_path / "missing.jsonl")
    assert_one_line_failure(done, "mindgym-report", "missing.jsonl")


def test_mindgym_heldout_exit_statuses(tmp_path):
    record = {
        "background_document": "The case began in 1994 and ended in 1997.",
        "sub_questions": [
            {"question": "In which year did the case begin?", "answer": "1994"},
            {"question": "In which year did the case end?", "answer": "1997"},
        ],
        "multihop_question": "How many years passed between when the case began and when the case ended?",
        "multihop_answer": "3 years",
        "thinking": "Find both years, then subtract.",
        "answer_source": "code",
    }
    (tmp_path / "records.jsonl").write_text(json.dumps(record) + "\n")
    done = run("mindgym-heldout", tmp_path / "records.jsonl", "--out", tmp_path / "set")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"written": 1}
    done = run("mindgym-heldout", tmp_path / "missing.jsonl", "--out", tmp_path / "set")
    assert_one_line_failure(done, "mindgym-heldout", "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text("not json\n")
    done = run("mindgym-heldout", tmp_path / "bad.jsonl", "--out", tmp_path / "set")
    assert_one_line_failure(done, "mindgym-heldout", "bad.jsonl:1")
