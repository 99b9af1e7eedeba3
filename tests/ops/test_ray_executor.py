"""The text recipe on Data-Juicer's Ray executor (`ray_address: local`) against the loopback server
yields the same records as the default executor."""

import glob
import json
import os
import re
import zlib
from collections import Counter

import yaml
from helpers import SECRET, api_run_env, read_jsonl, recipe_copy, run_dj
from mindgym_script import MindGymScript, user_text

from mindgym_ops.testing.server import FakeOpenAIServer

ROWS = 16
CONTENT = (
    "mindgym_row_id",
    "reasoning_category",
    "background_document",
    "relationship_category",
    "multihop_question",
    "multihop_answer",
    "thinking",
    "query",
    "response",
)


def question_number(body) -> int:
    """A number fixed by the question text alone, so both runs script the same row the same way."""
    text = user_text(body)
    return zlib.crc32(text[text.find("[") :].encode()) % 4


def varied_script() -> MindGymScript:
    """Replies that differ per question: a quarter is judged shallow (dropped by the depth filter),
    a quarter is always solved (dropped by self-consistency), the rest solved on half the attempts."""
    script = MindGymScript()
    solves: Counter = Counter()

    def judge(body):
        depth = 1 if question_number(body) == 0 else 4
        steps = [f"step {i}" for i in range(depth)]
        return json.dumps({"steps": steps, "knowledge_areas": ["dates", "rules", "numbers"]})

    def solve(body):
        q = user_text(body)
        solves[q] += 1
        right = question_number(body) == 1 or solves[q] % 2 == 0
        return json.dumps({"answer": "The following Thursday" if right else "Monday"})

    script.overrides.update(judge=judge, solve=solve)
    return script


def run_recipe(tmp_path, executor: str):
    top = {"executor_type": "ray", "ray_address": "local"} if executor == "ray" else {}
    (tmp_path / executor).mkdir()
    recipe = recipe_copy("mindgym_text.yaml", tmp_path / executor, length=ROWS, np=2, **top)
    if executor == "ray":
        # Data-Juicer's exact deduplicator has a Ray twin with the same arguments
        cfg = yaml.safe_load(recipe.read_text())
        cfg["process"] = [
            {"ray_document_deduplicator": s["document_deduplicator"]} if "document_deduplicator" in s else s
            for s in cfg["process"]
        ]
        recipe.write_text(yaml.safe_dump(cfg, sort_keys=False))
    with FakeOpenAIServer(varied_script()) as srv:
        done = run_dj(recipe, api_run_env(srv))
        requests = srv.stats.requests
    assert done.returncode == 0, done.stderr[-4000:]
    assert SECRET not in done.stdout + done.stderr
    out = str(tmp_path / executor / "out" / "result.jsonl")
    files = [out] if os.path.isfile(out) else sorted(glob.glob(os.path.join(out, "*.json*")))  # Ray writes a folder
    rows = [r for f in files for r in read_jsonl(f)]
    return rows, requests, done.stdout + done.stderr


def record_key(row):
    stats = row["__dj__stats__"]
    return tuple(row[k] for k in CONTENT) + (
        json.dumps(row["sub_questions"], sort_keys=True),
        stats["mindgym_depth"],
        stats["mindgym_solve_rate"],
    )


def test_ray_executor_yields_the_default_executors_records(tmp_path):
    default_rows, default_requests, _ = run_recipe(tmp_path, "default")
    ray_rows, ray_requests, ray_log = run_recipe(tmp_path, "ray")
    # both filters dropped something, so the comparison covers their decisions too
    assert 0 < len(default_rows) < ROWS, len(default_rows)
    assert {r["__dj__stats__"]["mindgym_solve_rate"] for r in default_rows} == {0.5}
    assert len({r["mindgym_row_id"] for r in ray_rows}) == len(ray_rows)
    assert sorted(map(record_key, ray_rows)) == sorted(map(record_key, default_rows))
    # the same requests were made: row ids, areas and cache keys do not depend on the executor
    assert ray_requests == default_requests
    # the Ray workers still report counted drop reasons
    assert re.search(r"mindgym_depth_breadth_filter: \d+ rows in", ray_log), ray_log[-3000:]
    assert "mindgym_depth_out_of_band" in ray_log and "(so far, Ray)" in ray_log
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
