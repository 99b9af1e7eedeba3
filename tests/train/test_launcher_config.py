import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT
from mindgym_train.config import ConfigError, load_config
from mindgym_train.launcher import build_export_argv, build_sft_argv, main, plan

GOLDEN_STAGE1 = (
    "swift sft --model Qwen/Qwen2.5-VL-7B-Instruct --model_type qwen2_5_vl --template qwen2_5_vl "
    "--dataset {data}/stage1.jsonl --output_dir {out}/01_q_thinking_to_answer --add_version false "
    "--report_to none --system 'You are a helpful assistant.' --freeze_aligner true --freeze_vit true "
    "--gradient_accumulation_steps 2 --learning_rate 1e-05 --logging_steps 5 --lora_alpha 32 --lora_rank 8 "
    "--max_length 4096 --num_train_epochs 1 --per_device_train_batch_size 1 --save_steps 60 --seed 42 "
    "--target_modules all-linear --torch_dtype bfloat16 --tuner_type lora --warmup_ratio 0.05 --deepspeed zero3"
)


def curriculum_rows(n=8, stages=(1, 2, 3, 4)):
    for i in range(n):
        for s in stages:
            yield {
                "messages": [
                    {"role": "user", "content": f"Question {i}?"},
                    {"role": "assistant", "content": f"Answer: {i}"},
                ],
                "curriculum_stage": s,
                "images": [],
                "query": "q",
            }


def paper_config(tmp_path, **changes):
    cfg = yaml.safe_load((ROOT / "configs" / "curriculum_qwen2_5_vl_7b.yaml").read_text())
    data = tmp_path / "curriculum.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in curriculum_rows()))
    cfg.update({"data": str(data), "output_dir": str(tmp_path / "run"), **changes})
    path = tmp_path / "paper.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_golden_argv_for_the_paper_config(tmp_path):
    path = paper_config(tmp_path)
    cfg = load_config(str(path))
    argv = build_sft_argv(cfg, cfg.stages[0], cfg.base_model)
    expected = GOLDEN_STAGE1.replace("freeze_aligner true", "freeze_aligner false").format(
        data=tmp_path / "run" / "data", out=tmp_path / "run"
    )
    assert shlex.join(argv) == expected
    assert cfg.env["NPROC_PER_NODE"] == "4"
    assert build_export_argv(cfg, "/x/checkpoint-12") == [
        "swift",
        "export",
        "--adapters",
        "/x/checkpoint-12",
        "--merge_lora",
        "true",
    ]
    # the split step writes one ms-swift file per stage with only messages (+ images)
    first = json.loads((tmp_path / "run" / "data" / "stage3.jsonl").read_text().splitlines()[0])
    assert set(first) == {"messages"}


def test_dry_run_prints_every_command_in_order(tmp_path, capsys):
    main(["--config", str(paper_config(tmp_path)), "--dry-run"])
    out = capsys.readouterr()
    lines = [ln for ln in out.out.strip().splitlines() if not ln.startswith("#")]
    assert [ln.split()[1] for ln in lines] == ["sft", "export"] * 4
    assert "--model '<q_thinking_to_answer output>'" in lines[2]  # stage 2 starts from stage 1's merged model
    assert all(ln.startswith("swift ") for ln in lines)
    data = tmp_path / "run" / "data"
    assert [ln for ln in out.out.splitlines() if ln.startswith("#")] == [
        "# environment: NPROC_PER_NODE=4",
        f"# stage 1 q_thinking_to_answer: rows 8, data {data}/stage1.jsonl",
        f"# stage 2 q_answer_to_thinking: rows 8, data {data}/stage2.jsonl",
        f"# stage 3 q_to_answer_thinking: rows 8, data {data}/stage3.jsonl",
        f"# stage 4 q_to_answer: rows 8, data {data}/stage4.jsonl",
    ]
    assert out.err == "" and not (tmp_path / "run").exists()  # a dry run writes nothing


def fresh_clone_config(tmp_path, name):
    """A repo config where a fresh clone has it: its ../outputs (data, models, runs) do not exist yet."""
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / name
    path.write_text((ROOT / "configs" / name).read_text())
    return path


@pytest.mark.parametrize(
    "name, missing",
    [
        ("curriculum_qwen2_5_vl_7b.yaml", ["outputs/mindgym_image/curriculum.jsonl"]),
        ("curriculum_tiny_cpu.yaml", ["outputs/tiny/tiny-qwen2", "outputs/tiny/curriculum.jsonl"]),
    ],
)
def test_dry_run_before_any_data_then_the_real_run_refuses(tmp_path, name, missing):
    config = fresh_clone_config(tmp_path, name)
    train = [str(Path(sys.executable).parent / "mindgym-train"), "--config", str(config)]
    dry = subprocess.run(train + ["--dry-run"], capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    warning = f"mindgym-train: warning: not there yet: {', '.join(str(tmp_path / m) for m in missing)} ("
    assert dry.stderr.startswith(warning) and dry.stderr.count("\n") == 1, dry.stderr
    stages = [ln for ln in dry.stdout.splitlines() if ln.startswith("# stage ")]
    assert len(stages) == 4 and all(": rows unknown, data " in ln for ln in stages)
    assert [ln.split()[1] for ln in dry.stdout.splitlines() if ln.startswith("swift ")] == ["sft", "export"] * 4
    assert not (tmp_path / "outputs").exists()
    real = subprocess.run(train, capture_output=True, text=True, timeout=60)
    assert real.returncode == 1 and real.stdout == ""
    assert real.stderr.count("\n") == 1 and real.stderr.startswith("mindgym-train: ") and missing[0] in real.stderr
    assert not (tmp_path / "outputs").exists()


def test_embedded_config_names_the_packaged_model_and_trains_the_thinking_stage_last(tmp_path, monkeypatch):
    """configs/curriculum_embedded_cpu.yaml: `packaged:qwen2.5-0.5b` is the packaged model's Hugging Face folder
    (a dry run names it without making it), and a stage may train on another stage's rows (`curriculum_stage`)."""
    from mindgym_ops.llm.packaged import hf_folder_path

    monkeypatch.setenv("MINDGYM_CACHE", str(tmp_path / "cache"))  # nothing made there by a dry run
    cfg = yaml.safe_load((ROOT / "configs" / "curriculum_embedded_cpu.yaml").read_text())
    data = tmp_path / "curriculum.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in curriculum_rows()))
    cfg.update(data=str(data), output_dir=str(tmp_path / "run"))
    path = tmp_path / "embedded.yaml"
    path.write_text(yaml.safe_dump(cfg))
    loaded = load_config(str(path), dry_run=True)
    folder = str(hf_folder_path("qwen2.5-0.5b"))
    assert folder.startswith(str(tmp_path / "cache")) and loaded.base_model == folder and loaded.missing == [folder]
    parts = [os.path.basename(st.data) for st in loaded.stages]
    assert len(parts) == 4 and sorted(parts) == [f"stage{k}.jsonl" for k in (1, 2, 3, 4)]
    assert parts[-1] == "stage3.jsonl"  # the last stage still thinks: it trains on the thinking-first rows
    assert not (tmp_path / "cache").exists()
    for change, message in (
        ({"base_model": "packaged:qwen9-70b"}, "no packaged model 'qwen9-70b'; packaged: ['qwen2.5-0.5b', 'smollm2']"),
        ({"stages": [{"name": "a", "curriculum_stage": 5}]}, "stage 1: curriculum_stage must be one of [1, 2, 3, 4]"),
        ({"stages": [{"name": "a", "curriculum_stage": 2, "data": str(data)}]}, "stage 1 sets both data and"),
    ):
        path.write_text(yaml.safe_dump({**cfg, **change}))
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(str(path), dry_run=True)


def test_plan_resumes_an_interrupted_stage(tmp_path):
    cfg = load_config(str(paper_config(tmp_path)))
    ckpt = tmp_path / "run" / "01_q_thinking_to_answer" / "checkpoint-3"
    ckpt.mkdir(parents=True)
    (ckpt / "trainer_state.json").write_text("{}")
    steps = plan(cfg, {"stages": {}})
    argv = steps[0]["argv"]
    assert argv[argv.index("--resume_from_checkpoint") + 1] == str(ckpt)
    assert "--resume_from_checkpoint" not in steps[2]["argv"]


@pytest.mark.parametrize(
    "change,message",
    [
        ({"data": "/no/such/file.jsonl"}, "data file not found: /no/such/file.jsonl"),
        ({"base_model": "./missing-model"}, "base_model path does not exist"),
        ({"stages": [{"name": "a", "lr": 1}]}, "unknown field 'lr' in stage 1"),
        ({"stages": []}, "`stages` must be a non-empty list"),
        ({"learning_rate": 1}, "unknown config field 'learning_rate'"),
        ({"stages": [{"name": "a", "tuner_type": "qlora"}]}, "tuner_type must be one of ['lora', 'full']"),
    ],
)
def test_bad_configs_fail_before_anything_runs_with_one_line(tmp_path, change, message, capsys):
    path = paper_config(tmp_path, **change)
    with pytest.raises(ConfigError) as e:
        load_config(str(path))
    assert message in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SystemExit) as ex:
        main(["--config", str(path)])
    assert message in str(ex.value)
    assert not (tmp_path / "run" / "01_q_thinking_to_answer").exists()


def test_stage_with_empty_data_is_refused(tmp_path):
    path = paper_config(tmp_path)
    cfg = yaml.safe_load(path.read_text())
    data = tmp_path / "three_stages.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in curriculum_rows(stages=(1, 2, 3))))
    cfg["data"] = str(data)
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="stage 4 data is empty"):
        load_config(str(path))


def test_launcher_runs_argv_lists_never_shell_strings(tmp_path, monkeypatch):
    import subprocess as sp

    from mindgym_train import launcher

    calls = []
    swift = fake_swift([])

    def fake_run(argv, **kwargs):
        calls.append((argv, kwargs))
        swift(argv, kwargs["env"])  # pretend ms-swift saved a LoRA checkpoint, or merged it
        return sp.CompletedProcess(argv, 0)

    monkeypatch.setattr(launcher.subprocess, "run", fake_run)
    cfg = load_config(str(paper_config(tmp_path, base_model=str(tmp_path))))
    final = launcher.run(cfg)
    assert final.endswith("04_q_to_answer/checkpoint-1-merged")
    assert len(calls) == 8
    for argv, kwargs in calls:
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
        assert not kwargs.get("shell")


def fake_swift(ran):
    """An executor standing in for ms-swift: records each argv and leaves what the real command would."""

    def execute(argv, env):
        ran.append((argv, env))
        if argv[1] == "sft":  # a LoRA checkpoint
            ckpt = os.path.join(argv[argv.index("--output_dir") + 1], "checkpoint-1")
            os.makedirs(ckpt, exist_ok=True)
            open(os.path.join(ckpt, "trainer_state.json"), "w").write("{}")
        else:  # the merged model beside it
            os.makedirs(argv[argv.index("--adapters") + 1] + "-merged", exist_ok=True)

    return execute


def test_run_executes_the_commands_the_dry_run_prints(tmp_path, capsys):
    from mindgym_train import launcher
    from mindgym_train.common import OFFLINE_ENV

    path = paper_config(tmp_path, base_model=str(tmp_path), offline=True)
    main(["--config", str(path), "--dry-run"])
    printed = [shlex.split(ln) for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    cfg = load_config(str(path))
    ran = []
    final = launcher.run(cfg, fake_swift(ran))
    # the plan's placeholders are what the earlier steps made
    made = {}
    for stage in cfg.stages:
        ckpt = os.path.join(launcher.stage_dir(cfg, stage), "checkpoint-1")
        made.update({f"<{stage.name} checkpoint>": ckpt, f"<{stage.name} output>": ckpt + "-merged"})
    assert [argv for argv, _ in ran] == [[made.get(a, a) for a in argv] for argv in printed]
    assert len(ran) == 8 and final == made["<q_to_answer output>"]
    assert all(env[k] == v for _, env in ran for k, v in {**OFFLINE_ENV, "NPROC_PER_NODE": "4"}.items())
    # a rerun has nothing left to do
    assert launcher.plan(cfg, launcher.load_state(cfg)) == []
    assert launcher.run(cfg, fake_swift(ran)) == final and len(ran) == 8


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "models" / "base").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "curriculum.jsonl").write_text("".join(json.dumps(r) + "\n" for r in curriculum_rows()))
    own = [{"messages": [{"role": "user", "content": "问题？"}, {"role": "assistant", "content": "答案"}]}]
    (tmp_path / "data" / "stage4.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in own))
    (tmp_path / "configs" / "plugin.py").write_text("")
    config = {
        "base_model": "../models/base",
        "model_type": "qwen2",
        "template": "qwen2_5",
        "output_dir": "../runs/r",
        "data": "../data/curriculum.jsonl",
        "external_plugins": ["plugin.py"],
        "stages": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d", "data": "../data/stage4.jsonl"}],
    }
    path = tmp_path / "configs" / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path / "models")  # not the config's folder
    cfg = load_config(str(path))
    assert cfg.base_model == str(tmp_path / "models" / "base")
    assert cfg.output_dir == str(tmp_path / "runs" / "r")
    assert cfg.external_plugins == [str(tmp_path / "configs" / "plugin.py")]
    assert [s.data for s in cfg.stages] == [
        str(tmp_path / "runs" / "r" / "data" / f"stage{k}.jsonl") for k in (1, 2, 3)
    ] + [str(tmp_path / "data" / "stage4.jsonl")]
    assert [s.rows for s in cfg.stages] == [8, 8, 8, 1]
    # the split keeps Chinese text as UTF-8, not \u escapes
    (tmp_path / "data" / "curriculum.jsonl").write_text(
        "".join(json.dumps({**r, "messages": own[0]["messages"]}) + "\n" for r in curriculum_rows(n=1))
    )
    load_config(str(path))
    assert "问题？" in (tmp_path / "runs" / "r" / "data" / "stage1.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "change,message",
    [
        ({"defaults": {"name": "x"}}, "unknown field 'name' in defaults; allowed: ['extra_args', "),
        ({"defaults": {"lora_rank": "eight"}}, "defaults.lora_rank: Input should be a valid integer"),
        ({"stages": [{"name": "a", "max_steps": "x"}]}, "stage 1: max_steps: Input should be a valid integer"),
        ({"model_type": ""}, "model_type: String should have at least 1 character"),
    ],
)
def test_bad_values_name_the_field_in_one_line(tmp_path, change, message):
    with pytest.raises(ConfigError) as e:
        load_config(str(paper_config(tmp_path, **change)))
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_bad_line_in_the_curriculum_export_is_one_line(tmp_path):
    path = paper_config(tmp_path)
    (tmp_path / "curriculum.jsonl").write_text('{"curriculum_stage": 1, "messages": []}\n{"cut": \n')
    with pytest.raises(ConfigError, match=r"curriculum\.jsonl:2: Expecting value"):
        load_config(str(path))


def test_a_block_left_empty_reads_as_unset(tmp_path):
    """`defaults:` with its lines commented out is YAML null: the paper's defaults hold."""
    cfg = load_config(str(paper_config(tmp_path, defaults=None, env=None)))
    assert cfg.stages[0].params["lora_rank"] == 8 and cfg.stages[0].extra_args == []
    assert cfg.env == {"NPROC_PER_NODE": "4"}


def test_yaml_scalars_and_nulls_load_as_before(tmp_path):
    """YAML booleans and numbers in argument lists and env are written as text; a fraction of a step count is
    accepted; a stage key set to null leaves the flag out (ms-swift's default); a bare `-` stage sets nothing."""
    raw = yaml.safe_load((ROOT / "configs" / "curriculum_qwen2_5_vl_7b.yaml").read_text())
    stages = raw["stages"]
    stages[0] = {**stages[0], "max_length": None, "save_steps": 0.1, "extra_args": ["--gradient_checkpointing", True]}
    stages[1] = None
    cfg = load_config(str(paper_config(tmp_path, stages=stages, env={"WANDB_DISABLED": True})))
    argv = build_sft_argv(cfg, cfg.stages[0], cfg.base_model)
    assert "--max_length" not in argv and argv[argv.index("--save_steps") + 1] == "0.1"
    assert argv[-2:] == ["--gradient_checkpointing", "True"]
    assert cfg.env["WANDB_DISABLED"] == "True"
    assert cfg.stages[1].params == load_config(str(paper_config(tmp_path))).stages[1].params
    second = build_sft_argv(cfg, cfg.stages[1], cfg.base_model)
    assert second[second.index("--max_length") + 1] == "4096"
