"""One engine per process: the text recipe's five LLM ops, built by Data-Juicer from the recipe, share one
engine on `local` (llama.cpp) and on `hf` (transformers), and it is released when the last op finishes."""

import os

import pytest
import yaml
from data_juicer.ops import load_ops
from tiny_models import build_tiny_qwen2

from mindgym_ops.llm import engines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HI = [{"role": "user", "content": "Say hi."}]


def recipe_ops(tmp_path):
    recipe = yaml.safe_load(open(os.path.join(ROOT, "recipes", "mindgym_text.yaml")))
    for step in recipe["process"]:
        for args in step.values():
            if isinstance(args, dict):
                args["cache_dir"] = None
                args["work_dir"] = str(tmp_path)
    return [op for op in load_ops(recipe["process"]) if hasattr(op, "llm")]


@pytest.mark.parametrize("backend", ["local", "hf"])
def test_the_text_recipe_loads_one_engine_for_its_five_llm_ops(backend, tmp_path, tmp_path_factory, monkeypatch):
    if backend == "local":
        model = "smollm2"
        monkeypatch.setenv("MINDGYM_CACHE", str(tmp_path_factory.mktemp("weights")))
    else:
        model = build_tiny_qwen2(str(tmp_path_factory.mktemp("models") / "tiny-qwen2"))
    monkeypatch.setenv("MINDGYM_BACKEND", backend)
    monkeypatch.setenv("MINDGYM_MODEL", model)
    engines.release_all()
    engines._state()["users"].clear()  # LLMs of earlier tests in this process that never closed
    before = engines.loads()
    ops = recipe_ops(tmp_path)
    assert len(ops) == 5 and len({op.llm.backend.engine_key for op in ops}) == 1
    for op in ops:  # every op really runs its model through its own LLM object
        res = op.llm.chat_batch([HI], sampling={"max_tokens": 3, "temperature": 0.0}, try_num=1)
        assert res[0].usage.prompt_tokens > 0
    assert engines.loads() - before == 1
    key = ops[0].llm.backend.engine_key
    for op in ops[:-1]:
        op.finish()
        assert key in engines._state()["engines"]  # still held for the ops that have not finished
    ops[-1].finish()
    assert key not in engines._state()["engines"]  # the last op out released it


def test_different_engine_params_get_different_engines(tmp_path, tmp_path_factory):
    from mindgym_ops.llm import LLM

    model = build_tiny_qwen2(str(tmp_path_factory.mktemp("models") / "tiny-qwen2"))
    engines.release_all()
    before = engines.loads()
    a = LLM(backend="hf", model=model, model_params={"dtype": "float32"})
    b = LLM(backend="hf", model=model, model_params={"dtype": "bfloat16"})
    c = LLM(backend="hf", model=model, model_params={"dtype": "float32", "batch_size": 2})  # batching is not loading
    for llm in (a, b, c):
        llm.chat_batch([HI], sampling={"max_tokens": 2}, try_num=1)
    assert engines.loads() - before == 2
    for llm in (a, b, c):
        llm.close()
    assert engines._state()["engines"] == {}


def test_dj_process_keeps_every_op_beside_the_one_engine(tmp_path, tmp_path_factory):
    """Through the real dj-process at np 1: `datasets` would run each op's map in a fresh one-worker pool
    (a model load per op); the ops keep their batches in the process that holds the engine.

    The tiny model has random weights, so the generation ops' substance checks refuse everything it writes
    and the text recipe would stop at its first op. The recipe here gives three LLM ops rows that already
    carry seeds and a question: both judges keep every row (widest bands, failures flagged), and the
    multi-hop mapper, last, asks the model whatever it then refuses."""
    import json
    import re

    from helpers import dj_env, run_dj, write_recipe

    seeds = [{"question": "Who counted the ships?", "answer": "Elias Brandt"}, {"question": "When?", "answer": "1887"}]
    row = {
        "text": "In 1887 Elias Brandt counted 42 ships in Kessa.",
        "background_document": "In 1887 Elias Brandt counted 42 ships in Kessa.",
        "sub_questions": seeds,
        "relationship_category": "Temporal",
        "multihop_question": "In which year did the man who counted the ships in Kessa count them?",
        "multihop_answer": "1887",
    }
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({**row, "mindgym_row_id": f"r{i}"}) + "\n" for i in range(2)))
    common = {"backend": "local", "try_num": 1, "cache_dir": None}
    recipe = write_recipe(
        tmp_path,
        {
            "project_name": "engines",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "result.jsonl"),
            "np": 1,
            "use_cache": False,
            "process": [
                {"mindgym_depth_breadth_filter": {"min_depth": 1, "min_breadth": 1, "on_failure": "flag", **common}},
                {
                    "mindgym_self_consistency_filter": {
                        "k": 2,
                        "min_solve_rate": 0.0,
                        "max_solve_rate": 1.0,
                        "on_failure": "flag",
                        "sampling_params": {"max_tokens": 16},
                        **common,
                    }
                },
                {"mindgym_multihop_qa_mapper": {"sampling_params": {"max_tokens": 48}, **common}},
            ],
        },
    )
    env = dj_env(None, MINDGYM_MODEL="smollm2", MINDGYM_CACHE=str(tmp_path_factory.mktemp("weights")))
    done = run_dj(recipe, env, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert len(re.findall(r"mindgym engine: loaded local smollm2", log)) == 1, log[-3000:]
    assert len(re.findall(r"mindgym engine: released local smollm2", log)) == 1
    asked = re.findall(r"(mindgym_\w+): \d+ rows in, [^\n]*?; (\d+) requests", log)
    assert sum(int(n) > 0 for _, n in asked) >= 3, asked  # several ops really used that one engine
    pids = set(re.findall(r"mindgym engine: loading local smollm2 \(pid (\d+)\)", log))
    assert len(pids) == 1
