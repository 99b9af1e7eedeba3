"""The api backend against a real OpenAI-compatible server: llama.cpp's own (`python -m llama_cpp.server`,
the `llama-cpp-python[server]` extra) serving the packaged Qwen2.5-Coder-0.5B, the text recipe on a few rows
with the README's one env change. Real weights, so this is also the substance smoke test of the pipeline."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml
from helpers import ROOT, SECRET, dj_env, read_jsonl, recipe_copy, run_dj

from mindgym_ops.llm.packaged import gguf_path
from mindgym_ops.rules.checks import check_multihop

pytestmark = pytest.mark.slow
ALIAS = "qwen2.5-0.5b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server", reason="needs the llama-cpp-python[server] extra")
    log = tmp_path_factory.mktemp("server") / "server.log"
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_path(ALIAS)),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "2",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + "/models", timeout=2).read()
                break
            except OSError:
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.5)
        yield url, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_text_recipe_on_llama_cpp_server(llama_server, tmp_path):
    url, log = llama_server
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=2)
    env = dj_env(None, OPENAI_BASE_URL=url, MINDGYM_BACKEND="api", MINDGYM_MODEL=ALIAS)
    done = run_dj(recipe, env, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    err = done.stderr

    # llama.cpp's server refuses json_schema with HTTP 500; the refusal is learned once for the whole process
    refused = len(re.findall(r'"POST /v1/chat/completions HTTP/1\.1" 500', log.read_text()))
    assert refused == 1, log.read_text()[-3000:]
    assert err.count("server rejected json_schema output") == 1

    # rows the 0.5B model made multi-hop are complete and pass every substance check; the rest are counted
    mh = re.search(r"mindgym_multihop_qa_mapper: (\d+) rows in, kept (\d+), dropped (\d+)[^\n]*", err)
    assert mh and int(mh.group(1)) == int(mh.group(2)) + int(mh.group(3)), err[-3000:]
    assert "judge_failed" not in err
    for r in read_jsonl(tmp_path / "out" / "result.jsonl"):
        for key in ("background_document", "multihop_question", "multihop_answer", "thinking", "query", "response"):
            assert isinstance(r[key], str) and r[key].strip(), key
        assert len(r["sub_questions"]) >= 2
        assert check_multihop(r["multihop_question"], r["multihop_answer"], r["thinking"], r["sub_questions"]) is None
        assert r["__dj__stats__"]["mindgym_solve_rate"] >= 0  # decided by the solver and its judge

    # the key never reaches the server's log, the outputs or our log
    assert SECRET not in log.read_text() and SECRET not in err + done.stdout
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f


def test_judge_filters_on_llama_cpp_server_decide_every_row(llama_server, tmp_path):
    """The recipe's two judges on real multi-step questions: every row is decided by the solver and the
    agreement judge (which sees only the attempts that parsed and must give one verdict each)."""
    url, log = llama_server
    anchors = json.load(open(ROOT / "tests" / "data" / "judge_anchors_en.json"))["deep"][:6]
    data = tmp_path / "questions.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "text": x["question"],
                    "multihop_question": x["question"],
                    "multihop_answer": x["answer"],
                    "sub_questions": [],
                }
            )
            + "\n"
            for x in anchors
        )
    )
    recipe = yaml.safe_load((ROOT / "recipes" / "mindgym_text.yaml").read_text())
    steps = {name: args for step in recipe["process"] for name, args in step.items()}
    for name in ("mindgym_depth_breadth_filter", "mindgym_self_consistency_filter"):
        steps[name].update(cache_dir=None, on_judge_failure="keep")
    steps["mindgym_depth_breadth_filter"].update(min_depth=1, min_breadth=1)  # this test is about deciding
    steps["mindgym_self_consistency_filter"].update(min_solve_rate=0.0, max_solve_rate=1.0)
    recipe.pop("generated_dataset_config")
    recipe.update(
        dataset_path=str(data),
        export_path=str(tmp_path / "out" / "result.jsonl"),
        process=[{n: steps[n]} for n in ("mindgym_depth_breadth_filter", "mindgym_self_consistency_filter")],
    )
    path = tmp_path / "filters.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    env = dj_env(None, OPENAI_BASE_URL=url, MINDGYM_BACKEND="api", MINDGYM_MODEL=ALIAS)
    done = run_dj(path, env, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    sc = re.search(r"mindgym_self_consistency_filter: (\d+) rows in, kept (\d+)[^\n]*", done.stderr)
    assert sc and int(sc.group(1)) == int(sc.group(2)) == len(anchors), done.stderr[-3000:]
    assert "judge_failed" not in sc.group(0)
    rows = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(rows) == len(anchors)
    for r in rows:
        record = json.loads(r["__dj__stats__"]["mindgym_solve_record"])
        assert r["__dj__stats__"]["mindgym_solve_rate"] >= 0 and "error" not in record, record
        assert r["__dj__stats__"]["mindgym_depth"] >= 1
