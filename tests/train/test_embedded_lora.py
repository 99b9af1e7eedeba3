"""One real LoRA step on the real packaged weights: Qwen2.5-Coder-0.5B, its Hugging Face folder made once from the
packaged GGUF (`base_model: packaged:qwen2.5-0.5b`), trained by ms-swift on grounded curriculum rows with the settings
of configs/curriculum_embedded_cpu.yaml (one stage, `max_steps: 1`), merged, and asked a question through the `hf`
backend. The tiny random models of test_curriculum_cpu.py show the plumbing; this shows the real model trains."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from helpers import ROOT
from safetensors import safe_open

from mindgym_ops.llm import LLM
from mindgym_ops.llm.packaged import hf_folder_path
from mindgym_ops.ops.mindgym_curriculum_mapper import MindgymCurriculumMapper

pytestmark = pytest.mark.slow
DOC = "The Brandt case began in Kessa in 1994. Judge Hale closed it in 1997, after 212 hearings."
QUESTION = "How many years passed between when the Brandt case began and when it ended?"


def grounded_rows(path):
    """The four stage rows of two records, each carrying its document (mindgym_curriculum_mapper, split all)."""
    rows = {
        "mindgym_row_id": ["r0", "r1"],
        "language": ["en", "en"],
        "background_document": [DOC, DOC.replace("1994", "1990")],
        "multihop_question": [QUESTION, QUESTION],
        "multihop_answer": ["3 years", "7 years"],
        "thinking": ["The case began in 1994 and ended in 1997; 1997 - 1994 = 3.", "1997 - 1990 = 7."],
        "images": [[], []],
    }
    out = MindgymCurriculumMapper(split="all", thinking_first=True).process_batched(rows)
    with open(path, "w") as f:
        for i in range(len(out["messages"])):
            f.write(json.dumps({"messages": out["messages"][i], "curriculum_stage": out["curriculum_stage"][i]}) + "\n")
    return out


def tensor(folder, suffix):
    with safe_open(os.path.join(folder, "model.safetensors"), "pt") as f:
        key = next(k for k in f.keys() if k.endswith(suffix))
        return f.get_tensor(key).float()


def test_one_lora_step_on_the_packaged_model_merges_and_answers(tmp_path):
    out = grounded_rows(tmp_path / "curriculum.jsonl")
    assert all(DOC in m[0]["content"] for m, r in zip(out["messages"], out["mindgym_row_id"]) if r == "r0")
    cfg = yaml.safe_load((ROOT / "configs" / "curriculum_embedded_cpu.yaml").read_text())
    cfg.update(data=str(tmp_path / "curriculum.jsonl"), output_dir=str(tmp_path / "run"))
    cfg["defaults"].update(max_steps=1, save_steps=1)
    cfg["stages"] = [{"name": "q_to_thinking_answer", "curriculum_stage": 3}]
    config = tmp_path / "embedded.yaml"
    config.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    cmd = [sys.executable, "-m", "mindgym_train.launcher", "--config", str(config)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    base = str(hf_folder_path("qwen2.5-0.5b"))
    assert f"swift sft --model {base} --model_type qwen2 --template qwen2_5" in log
    assert "--lora_rank 8" in log and "--torch_dtype float32" in log
    state = json.loads((tmp_path / "run" / "curriculum_state.json").read_text())["stages"]["q_to_thinking_answer"]
    assert state["started_from"] == base and state["final_model"].endswith("checkpoint-1-merged")
    assert state["train_loss"] is not None and state["train_loss"] > 0 and state["seconds"] > 0
    # the stage trained on its own part of the rows: the stage-3 rows, thinking first
    (trained,) = {
        json.loads(line)["messages"][1]["content"][:9] for line in open(tmp_path / "run" / "data" / "stage3.jsonl")
    }
    assert trained == "Thinking:"
    # one step changed the weights the stage started from
    merged = state["final_model"]
    assert not tensor(merged, "layers.0.self_attn.q_proj.weight").equal(
        tensor(base, "layers.0.self_attn.q_proj.weight")
    )
    # and the merged folder answers through the hf backend
    llm = LLM(backend="hf", model=merged, sampling_params={"temperature": 0.0, "max_tokens": 48})
    (reply,) = llm.chat_batch([[{"role": "user", "content": f"Document:\n{DOC}\n\nQuestion: {QUESTION}"}]], try_num=1)
    # a broken merge writes noise until max_tokens; this one stops on its own, about the document it was shown
    assert reply.ok and reply.finish_reason == "stop", reply
    assert {w for w in re.findall(r"\w+", reply.text) if len(w) > 2} & set(re.findall(r"\w+", DOC)), reply
