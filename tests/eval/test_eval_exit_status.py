"""mindgym-eval as a user runs it (the console script, a real process): exit 0 after a real evaluation through
evalscope against an OpenAI-compatible endpoint; the dry run before any training; one line and exit 1 on failure."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from eval_data import gsm8k_local
from helpers import ROOT
from mindgym_script import user_text

from mindgym_ops.testing.server import FakeOpenAIServer

EVAL = str(Path(sys.executable).parent / "mindgym-eval")


def mindgym_eval(*args, timeout=120):
    env = {**os.environ, "OPENAI_API_KEY": "EMPTY"}
    return subprocess.run([EVAL, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def one_line_failure(done):
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("mindgym-eval: "), done.stderr
    return done.stderr.strip()


def arithmetic(body):
    """Right and reasoning first on `Tom has 0/1 apples`, wrong and answering at once on `Tom has 2`: evalscope
    must score 2 of 3, and 2 of 3 replies reason before they answer."""
    n = int(re.search(r"Tom has (\d+) apples", user_text(body)).group(1))
    if n >= 2:
        return f"The answer is \\boxed{{{n + 3}}}."
    return f"Tom starts with {n} apples and is given 2 more, so {n} + 2 = {n + 2}. The answer is \\boxed{{{n + 2}}}."


def test_a_real_evaluation_on_an_endpoint_exits_0(tmp_path):
    with FakeOpenAIServer(arithmetic) as server:
        cfg = {
            "output_dir": str(tmp_path / "eval"),
            "base_model": "Qwen/Qwen2.5-VL-7B-Instruct",
            "endpoint": {"url": server.base_url, "model": "fake"},
            "generation": {"max_tokens": 32, "temperature": 0.0},
            "eval_batch_size": 2,
            "benchmarks": {"gsm8k": {"dataset_id": str(gsm8k_local(tmp_path)), "few_shot_num": 0, "limit": 3}},
        }
        (tmp_path / "eval.yaml").write_text(yaml.safe_dump(cfg))
        done = mindgym_eval("--config", tmp_path / "eval.yaml", timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert server.stats.completed == 3 and all(b["model"] == "fake" for b in server.stats.bodies)
    with open(tmp_path / "eval" / "results.csv", newline="") as f:
        assert list(csv.DictReader(f)) == [
            {
                "model": "base",
                "gsm8k": "66.67",
                "gsm8k delta": "+0.00",
                "gsm8k n": "3",
                "gsm8k ci95 low": "20.77",  # Wilson's interval of 2 of 3
                "gsm8k ci95 high": "93.85",
                "gsm8k reasons first": "66.67",
            }
        ]
    assert "| base | 66.67 | +0.00 |" in done.stdout


def test_dry_run_before_any_training_then_the_real_run_refuses(tmp_path):
    """A fresh clone: the config's ../outputs (the curriculum run) does not exist yet."""
    (tmp_path / "configs").mkdir()
    config = tmp_path / "configs" / "eval_qwen2_5_vl_7b.yaml"
    config.write_text((ROOT / "configs" / "eval_qwen2_5_vl_7b.yaml").read_text())
    curriculum = tmp_path / "outputs" / "curriculum_qwen2_5_vl_7b"
    dry = mindgym_eval("--config", config, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr == (
        f"mindgym-eval: no curriculum stages found yet in {curriculum} (no curriculum_state.json; "
        "run mindgym-train first): showing base only\n"
    )
    tasks = [json.loads(line) for line in dry.stdout.splitlines()]
    assert [t["datasets"][0] for t in tasks] == list(yaml.safe_load(config.read_text())["benchmarks"])
    assert {t["model"] for t in tasks} == {"base"} and {t["api_url"] for t in tasks} == {"<served>"}
    assert not (tmp_path / "outputs").exists()
    real = mindgym_eval("--config", config)
    assert one_line_failure(real) == (
        f"mindgym-eval: no finished curriculum in {curriculum} (missing curriculum_state.json)"
    )


def test_dry_run_lists_missing_checkpoints_and_datasets_the_real_run_refuses_them(tmp_path):
    cfg = {
        "output_dir": str(tmp_path / "eval"),
        "base_model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "models": [{"name": "stage4", "path": "./runs/stage4-merged"}],
        "benchmarks": {"gsm8k": {"dataset_id": "./data/gsm8k"}},
    }
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(cfg))
    dry = mindgym_eval("--config", tmp_path / "eval.yaml", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stderr == (
        f"mindgym-eval: warning: not there yet: {tmp_path / 'runs' / 'stage4-merged'}, {tmp_path / 'data' / 'gsm8k'}\n"
    )
    assert [json.loads(line)["model_id"] for line in dry.stdout.splitlines()] == ["base", "stage4"]
    real = mindgym_eval("--config", tmp_path / "eval.yaml")
    assert "checkpoint for model 'stage4' not found" in one_line_failure(real)


def test_an_endpoint_that_does_not_answer_is_one_line_and_exit_1(tmp_path):
    cfg = {
        "output_dir": str(tmp_path / "eval"),
        "base_model": "fake",
        "endpoint": {"url": "http://127.0.0.1:9/v1"},
        "benchmarks": ["gsm8k"],
    }
    (tmp_path / "eval.yaml").write_text(yaml.safe_dump(cfg))
    assert "endpoint unreachable" in one_line_failure(mindgym_eval("--config", tmp_path / "eval.yaml"))
