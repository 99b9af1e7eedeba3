"""Real ms-swift runs on CPU: four chained LoRA stages on a tiny random Qwen2, killed during stage 2
and resumed; and an image stage on a tiny Qwen2.5-VL from rows written by mindgym_curriculum_mapper."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml
from helpers import ROOT
from safetensors.torch import load_file
from tiny_models import build_tiny_qwen2, build_tiny_qwen25_vl

from mindgym_ops.ops.mindgym_curriculum_mapper import MindgymCurriculumMapper

pytestmark = pytest.mark.slow


def records(n, images=None):
    for i in range(n):
        yield {
            "mindgym_row_id": f"r{i}",
            "language": "en",
            "images": images or [],
            "multihop_question": f"If a train leaves at {i} pm and travels 3 hours, when does it arrive?",
            "multihop_answer": f"At {i + 3} pm, because three hours after {i} pm is {i + 3} pm.",
            "thinking": "Take the departure time, add the travel duration, and report the arrival hour.",
        }


def curriculum_file(path, n=8, split="all", images=None):
    op = MindgymCurriculumMapper(split=split, image_root=os.path.dirname(images[0]) if images else None)
    rows = list(records(n, images))
    out = op.process_batched({k: [r[k] for r in rows] for k in rows[0]})
    with open(path, "w") as f:
        for i in range(len(out["messages"])):
            f.write(json.dumps({k: out[k][i] for k in out}) + "\n")
    return out


def tiny_config(tmp_path, model, data, **changes):
    cfg = yaml.safe_load((ROOT / "configs" / "curriculum_tiny_cpu.yaml").read_text())
    cfg.update({"base_model": model, "data": str(data), "output_dir": str(tmp_path / "run"), **changes})
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def weights(folder):
    return load_file(os.path.join(folder, "model.safetensors"))


def launcher(config):
    return [sys.executable, "-m", "mindgym_train.launcher", "--config", str(config)]


def test_four_lora_stages_chain_and_resume_after_a_kill(tmp_path):
    base = build_tiny_qwen2(str(tmp_path / "tiny-qwen2"))
    curriculum_file(tmp_path / "curriculum.jsonl")
    config = tiny_config(tmp_path, base, tmp_path / "curriculum.jsonl")
    run = tmp_path / "run"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")

    # first run: kill the launcher (and its swift child) once stage 2 has saved a checkpoint
    proc = subprocess.Popen(
        launcher(config), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    stage2 = run / "02_q_answer_to_thinking"
    deadline = time.time() + 400
    while time.time() < deadline and proc.poll() is None:
        if (stage2 / "checkpoint-1" / "trainer_state.json").exists():
            break
        time.sleep(0.5)
    assert (stage2 / "checkpoint-1").exists(), proc.stdout.read().decode()[-3000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    state = json.loads((run / "curriculum_state.json").read_text())
    assert list(state["stages"]) == ["q_thinking_to_answer"]

    # rerun: stage 1 is not redone; stage 2 resumes from its checkpoint; stages 3-4 follow
    done = subprocess.run(launcher(config), env=env, capture_output=True, text=True, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "[q_thinking_to_answer] done earlier" in log
    # stage 2 resumes from the checkpoint it had saved (training is fast: 1 or 2, whichever landed first)
    assert re.search(rf"resuming from {re.escape(str(stage2))}/checkpoint-[12]\n", log), log[:2000]
    assert log.count("swift sft --model") == 3
    final = done.stdout.strip().splitlines()[-1]
    assert final.startswith("final model: ") and final.endswith("-merged")

    state = json.loads((run / "curriculum_state.json").read_text())
    names = ["q_thinking_to_answer", "q_answer_to_thinking", "q_to_answer_thinking", "q_to_answer"]
    assert list(state["stages"]) == names
    previous = base
    for name in names:
        st = state["stages"][name]
        assert st["started_from"] == previous  # stage k+1 started from stage k's merged output
        assert st["final_model"].endswith("-merged") and os.path.isdir(st["final_model"])
        args = json.loads(open(os.path.join(os.path.dirname(st["checkpoint"]), "args.json")).read())
        assert os.path.normpath(args["model"]) == os.path.normpath(previous)
        previous = st["final_model"]

    w = [weights(base)] + [weights(state["stages"][n]["final_model"]) for n in names]
    key = next(k for k in w[0] if k.endswith("layers.0.self_attn.q_proj.weight"))
    for k in range(1, 5):  # each stage changed the weights it started from
        assert not w[k][key].equal(w[k - 1][key]), f"stage {k} left {key} unchanged"


def test_image_stage_on_tiny_qwen25_vl_expands_image_tokens(tmp_path):
    from PIL import Image, ImageDraw

    model = build_tiny_qwen25_vl(str(tmp_path / "tiny-vl"))
    img = tmp_path / "square.png"
    im = Image.new("RGB", (112, 112), "white")
    ImageDraw.Draw(im).rectangle([20, 20, 90, 90], fill="red")
    im.save(img)
    out = curriculum_file(tmp_path / "curriculum.jsonl", n=4, split="all", images=[str(img)])
    assert out["messages"][0][0]["content"].startswith("<image>") and out["images"][0] == [str(img)]
    config = tiny_config(
        tmp_path,
        model,
        tmp_path / "curriculum.jsonl",
        model_type="qwen2_5_vl",
        template="qwen2_5_vl",
        external_plugins=[str(ROOT / "tests" / "cpu_vl_shim.py")],
        stages=[
            {
                "name": "image_stage",
                "freeze_vit": True,
                "freeze_aligner": False,
                "max_length": 512,
                "per_device_train_batch_size": 1,
            }
        ],
    )
    cfg = yaml.safe_load(config.read_text())
    cfg["defaults"]["max_steps"] = 2
    config.write_text(yaml.safe_dump(cfg))
    # only one stage: keep the stage-1 rows
    rows = [json.loads(ln) for ln in open(tmp_path / "curriculum.jsonl")]
    with open(tmp_path / "curriculum.jsonl", "w") as f:
        for r in rows:
            if r["curriculum_stage"] == 1:
                f.write(json.dumps(r) + "\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    done = subprocess.run(launcher(config), env=env, capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "--freeze_aligner false" in log
    assert "[151655 * " in log  # the training log shows <|image_pad|> expanded to the image's patch count
    assert done.stdout.strip().splitlines()[-1].endswith("-merged")
