"""The api backend against a real OpenAI-compatible server: llama.cpp's own (`python -m llama_cpp.server`,
the `llama-cpp-python[server]` extra) serving the packaged Qwen2.5-Coder-0.5B, the text recipe on a few rows
with the README's one env change. Real weights, so this is also the substance smoke test of the pipeline."""

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from helpers import SECRET, dj_env, read_jsonl, recipe_copy, run_dj

from mindgym_ops.llm.packaged import gguf_path
from mindgym_ops.substance import check_multihop

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
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=3)
    env = dj_env(None, OPENAI_BASE_URL=url, MINDGYM_BACKEND="api", MINDGYM_MODEL=ALIAS)
    done = run_dj(recipe, env, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    err = done.stderr

    # llama.cpp's server refuses json_schema with HTTP 500; the refusal is learned once for the whole process
    refused = len(re.findall(r'"POST /v1/chat/completions HTTP/1\.1" 500', log.read_text()))
    assert refused == 1, log.read_text()[-3000:]
    assert err.count("server rejected json_schema output") == 1

    # the per-op lines count every row; no row of the self-consistency filter ended undecided
    sc = re.search(r"mindgym_self_consistency_filter: (\d+) rows in, kept (\d+)[^\n]*", err)
    assert sc, err[-3000:]
    assert int(sc.group(1)) >= 1, "no row reached the self-consistency filter"
    assert "judge_failed" not in sc.group(0)
    records = read_jsonl(tmp_path / "out" / "result.jsonl")
    for r in records:
        for key in ("background_document", "multihop_question", "multihop_answer", "thinking", "query", "response"):
            assert isinstance(r[key], str) and r[key].strip(), key
        assert len(r["sub_questions"]) >= 2
        # every exported question passed the substance checks: no copy of a seed, no stated answer
        assert check_multihop(r["multihop_question"], r["multihop_answer"], r["thinking"], r["sub_questions"]) is None
        assert r["__dj__stats__"]["mindgym_solve_rate"] >= 0  # decided by the solver and its judge

    # the key never reaches the server's log, the outputs or our log
    assert SECRET not in log.read_text() and SECRET not in err + done.stdout
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
