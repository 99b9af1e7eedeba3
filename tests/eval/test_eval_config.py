"""Golden evalscope task configs for the paper's six benchmarks; bad configs fail early with one line."""

import json
from pathlib import Path

import pytest
import yaml
from helpers import ROOT
from mindgym_train.eval_config import BENCHMARKS, load_eval_config
from mindgym_train.evaluate import build_serve_argv, build_task_config, main, needs_server

SERVED = {
    "model": "base",
    "eval_type": "openai_api",
    "api_url": "http://127.0.0.1:8000/v1",
    "api_key": "EMPTY",
    "model_id": "base",
    "no_timestamp": True,
    "eval_batch_size": 8,
    "generation_config": {"max_tokens": 2048, "temperature": 0.0},
}
GOLDEN = {
    "math_500": {**SERVED, "datasets": ["math_500"]},
    "mm_star": {**SERVED, "datasets": ["mm_star"]},
    "math_vista": {**SERVED, "datasets": ["math_vista"]},
    "math_vision": {**SERVED, "datasets": ["math_vision"]},
    "gsm8k": {
        "model_id": "base",
        "datasets": ["gsm8k"],
        "no_timestamp": True,
        "eval_batch_size": 8,
        "generation_config": {"max_tokens": 2048, "temperature": 0.0},
        "dataset_args": {"gsm8k": {"few_shot_num": 0}},
        "model": "base",
        "eval_type": "openai_api",
        "api_url": "http://127.0.0.1:8000/v1",
        "api_key": "EMPTY",
    },
    "gpqa_diamond": {
        "model_id": "base",
        "datasets": ["gpqa_diamond"],
        "no_timestamp": True,
        "eval_batch_size": 8,
        "generation_config": {"max_tokens": 2048, "temperature": 0.0},
        "limit": 300,
        "model": "base",
        "eval_type": "openai_api",
        "api_url": "http://127.0.0.1:8000/v1",
        "api_key": "EMPTY",
    },
}


def paper_config(tmp_path, **changes):
    cfg = yaml.safe_load((ROOT / "configs" / "eval_qwen2_5_vl_7b.yaml").read_text())
    cfg.pop("curriculum_dir", None)
    cfg.update({"output_dir": str(tmp_path / "eval"), **changes})
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_golden_task_configs_for_the_six_benchmarks(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = load_eval_config(str(paper_config(tmp_path)))
    assert set(cfg.benchmarks) == set(BENCHMARKS)
    base = cfg.models[0]
    for bench in BENCHMARKS:
        task = build_task_config(cfg, base, bench, "http://127.0.0.1:8000/v1", "base")
        assert task["datasets"] == [bench] and task["work_dir"] == str(tmp_path / "eval" / "base" / bench)
        task.pop("work_dir")
        assert task == GOLDEN[bench], bench
        assert needs_server(cfg, bench)  # the paper's VL model is served for every benchmark
    local = load_eval_config(str(paper_config(tmp_path, text_eval="llm_ckpt")))
    task = build_task_config(local, local.models[0], "math_500")
    assert task["eval_type"] == "llm_ckpt" and task["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert task["generation_config"] == {"max_tokens": 2048, "do_sample": False}
    assert not needs_server(local, "math_500") and needs_server(local, "mm_star")


def test_serve_argv_for_swift_deploy(tmp_path):
    cfg = load_eval_config(
        str(paper_config(tmp_path, serve={"backend": "swift", "model_type": "qwen2_5_vl", "template": "qwen2_5_vl"}))
    )
    argv = build_serve_argv(cfg, cfg.models[0], 18123)
    assert argv[:4] == ["swift", "deploy", "--model", "Qwen/Qwen2.5-VL-7B-Instruct"]
    assert argv[argv.index("--port") + 1] == "18123" and "--model_type" in argv


@pytest.mark.parametrize(
    "change,message",
    [
        (
            {"benchmarks": ["gsm8k", "mmlu"]},
            "unknown benchmark 'mmlu'; valid: ['gsm8k', 'math_500', 'gpqa_diamond', "
            "'mm_star', 'math_vista', 'math_vision']",
        ),
        ({"models": [{"name": "s1", "path": "./no/such/ckpt"}]}, "checkpoint for model 's1' not found"),
        ({"serve": {"backend": "tgi"}}, "serve.backend must be one of ['auto', 'vllm', 'swift']"),
        ({"endpoint": {"url": "http://127.0.0.1:9/v1"}}, "endpoint unreachable"),
    ],
)
def test_bad_eval_configs_fail_early_with_one_line(tmp_path, change, message):
    path = paper_config(tmp_path, **change)
    with pytest.raises(SystemExit) as e:
        main(["--config", str(path)])
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "eval").exists()


def test_dry_run_prints_one_task_per_model_and_benchmark(tmp_path, capsys):
    main(["--config", str(paper_config(tmp_path)), "--dry-run"])
    tasks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(tasks) == 6 and {t["datasets"][0] for t in tasks} == set(BENCHMARKS)


WINRATE = {"questions": "questions.jsonl", "base": "base", "tuned": "base", "judge": {"backend": "api"}}


@pytest.mark.parametrize(
    "winrate,message",
    [
        ({**WINRATE, "judges": {}}, "unknown field 'judges' in winrate; allowed: ['answer_backend', "),
        ({**WINRATE, "judge": {"backend": "api", "temp": 0}}, "unknown field 'temp' in winrate.judge; allowed: "),
        ({**WINRATE, "judge": {"backend": "gpt"}}, "winrate.judge.backend must be one of ['api', 'vllm', 'hf', "),
        ({**WINRATE, "tuned": "stage9"}, "winrate.tuned must be one of the evaluated models ['base'], got 'stage9'"),
        ({**WINRATE, "language": "fr"}, "winrate.language must be one of ['en', 'zh'], got 'fr'"),
        ({"base": "base", "tuned": "base"}, "missing required field 'winrate.questions'"),
        ({**WINRATE, "questions": "nowhere.jsonl"}, "winrate questions file not found"),
        (
            {**WINRATE, "question_key": "query"},
            "questions.jsonl: question 1 has no 'query' text (winrate.question_key)",
        ),
    ],
)
def test_bad_winrate_blocks_fail_early_with_one_line(tmp_path, winrate, message):
    (tmp_path / "questions.jsonl").write_text('{"question": "Why?"}\n')
    path = paper_config(tmp_path, winrate=winrate)
    with pytest.raises(SystemExit) as e:
        main(["--config", str(path)])
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "eval").exists()


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    for folder in ("configs", "ckpt/s1", "data/gsm8k"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "data" / "questions.jsonl").write_text('{"question": "为什么？"}\n')
    config = {
        "output_dir": "../eval",
        "models": [{"name": "s1", "path": "../ckpt/s1"}],
        "curriculum_dir": "../runs/curriculum",  # no finished stage yet: a dry run shows s1 only
        "benchmarks": {"gsm8k": {"dataset_id": "../data/gsm8k"}, "mm_star": {}},
        "serve": {"external_plugins": ["shim.py"]},
        "winrate": {"questions": "../data/questions.jsonl", "base": "s1", "tuned": "s1"},
    }
    path = tmp_path / "configs" / "eval.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path / "ckpt")  # not the config's folder
    cfg = load_eval_config(str(path), dry_run=True)
    assert cfg.output_dir == str(tmp_path / "eval")
    assert cfg.models[0].path == str(tmp_path / "ckpt" / "s1")
    assert cfg.curriculum_pending == str(tmp_path / "runs" / "curriculum")
    assert cfg.benchmarks["gsm8k"].dataset_id == str(tmp_path / "data" / "gsm8k")
    assert cfg.serve.external_plugins == [str(tmp_path / "configs" / "shim.py")]
    assert cfg.winrate.questions == str(tmp_path / "data" / "questions.jsonl")
    assert cfg.missing == []


def test_evaluate_runs_the_tasks_the_dry_run_prints(tmp_path, capsys, monkeypatch):
    from contextlib import contextmanager

    from mindgym_train import evaluate

    (tmp_path / "ckpt").mkdir()
    path = paper_config(tmp_path, base_model=str(tmp_path / "ckpt"), text_eval="llm_ckpt")
    main(["--config", str(path), "--dry-run"])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    started = []

    @contextmanager
    def served(cfg, model):  # stands in for the server the runner starts
        started.append(model.name)
        yield {"url": "http://127.0.0.1:8000/v1", "model": model.name}

    monkeypatch.setattr(evaluate, "served", served)
    cfg = load_eval_config(str(path))
    ran = []

    def run_task(task):  # stands in for evalscope: records the task and writes its report
        ran.append(task)
        report = Path(task["work_dir"]) / "reports" / task["model_id"] / f"{task['datasets'][0]}.json"
        report.parent.mkdir(parents=True)
        report.write_text(json.dumps({"metrics": [{"score": 0.5}]}))

    scores = evaluate.evaluate(cfg, run_task)
    # the text benchmarks on the local checkpoint first, then the multimodal ones through one server
    assert [t["eval_type"] for t in printed] == ["llm_ckpt"] * 3 + ["openai_api"] * 3
    assert ran == [{**t, "api_url": "http://127.0.0.1:8000/v1"} if "api_url" in t else t for t in printed]
    assert started == ["base"] and scores == {"base": {b: 0.5 for b in BENCHMARKS}}
    evaluate.evaluate(cfg, run_task)  # a rerun: every report is there, no server
    assert len(ran) == 6 and started == ["base"]


def test_dry_run_names_a_configured_endpoint(tmp_path, capsys):
    endpoint = {"url": "http://127.0.0.1:9/v1/", "model": "served-name"}
    main(["--config", str(paper_config(tmp_path, endpoint=endpoint)), "--dry-run"])
    tasks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(t["api_url"], t["model"], t["model_id"]) for t in tasks} == {
        ("http://127.0.0.1:9/v1", "served-name", "base")
    }
