import os
import signal
import subprocess
import sys
import time

from helpers import dj_env, read_jsonl, write_recipe
from mindgym_script import MindGymScript

from mindgym_ops.llm import LLM
from mindgym_ops.schemas import DepthBreadth
from mindgym_ops.testing.server import FakeOpenAIServer

JUDGE = [{"role": "user", "content": 'Rate it. Reply with JSON only: {"depth": <1-5>, ...}'}]


def test_cache_hits_skip_requests_and_nonces_keep_rows_apart(server, tmp_path):
    params = {"base_url": server.base_url}
    llm = LLM(backend="api", model="fake", model_params=params, cache_dir=str(tmp_path))
    first = llm.chat_batch([JUDGE, JUDGE], schema=DepthBreadth, keys=["row1", "row2"])
    assert server.stats.requests == 2  # identical prompts on two rows: two requests
    again = LLM(backend="api", model="fake", model_params=params, cache_dir=str(tmp_path))
    second = again.chat_batch([JUDGE, JUDGE], schema=DepthBreadth, keys=["row1", "row2"])
    assert server.stats.requests == 2
    assert all(r.cached for r in second) and [r.text for r in second] == [r.text for r in first]
    again.chat_batch([JUDGE], schema=DepthBreadth, keys=["row3"])
    assert server.stats.requests == 3


def test_cache_never_stores_the_api_key(server, tmp_path, monkeypatch):
    from helpers import SECRET

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    llm = LLM(
        backend="api",
        model="fake",
        model_params={"base_url": server.base_url, "api_key": SECRET},
        cache_dir=str(tmp_path),
    )
    llm.chat_batch([JUDGE], schema=DepthBreadth, keys=["k"])
    for f in tmp_path.iterdir():
        assert SECRET.encode() not in f.read_bytes()


def test_kill_midway_then_rerun_sends_no_completed_request_twice(tmp_path):
    with FakeOpenAIServer(MindGymScript(), latency=0.05) as srv:
        recipe = write_recipe(
            tmp_path,
            {
                "project_name": "crash",
                "np": 1,
                "use_cache": False,
                "generated_dataset_config": {"type": "EmptyFormatter", "length": 24, "feature_keys": ["text"]},
                "export_path": str(tmp_path / "out" / "result.jsonl"),
                "process": [
                    {
                        "mindgym_background_mapper": {
                            "backend": "api",
                            "model": "fake",
                            "cache_dir": str(tmp_path / "cache"),
                            "model_params": {"max_concurrency": 4},
                        }
                    }
                ],
            },
        )
        exe = os.path.join(os.path.dirname(sys.executable), "dj-process")
        srv.hold_after = 10
        proc = subprocess.Popen(
            [exe, "--config", str(recipe)], env=dj_env(srv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.time() + 120
        while srv.stats.completed < 10 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the client has stored every answer it received; the rest are held
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # the server sees the dead client's connections close: its held requests end unanswered
        assert srv.stats.completed == 10
        assert not (tmp_path / "out" / "result.jsonl").exists()
        srv.hold_after = None
        done = subprocess.run(
            [exe, "--config", str(recipe)], env=dj_env(srv), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        rows = read_jsonl(tmp_path / "out" / "result.jsonl")
        assert len(rows) == 24 and all(r["background_document"] for r in rows)
        assert srv.stats.completed == 24
        assert srv.stats.resent_completed() == 0
