"""Tokens per accepted record of the full text pipeline (generation + judge + self-consistency),
from the server's usage counts, against the released pipeline's ~53k prompt tokens per record
(an 11,569-token system prompt on each of four turns).

Runs recipes/mindgym_text.yaml through the real dj-process against the loopback server (usage
counted with the real Qwen tokenizer), every LLM op switched to it with MINDGYM_BACKEND=api.

    python tests/benchmarks/bench_tokens_per_record.py [--rows 64]"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from _server import served, server_stats  # noqa: E402

RELEASED = 53_000  # four turns, each with the 11,569-token system prompt plus the growing conversation


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=64)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, served(0.0, "--solve-every", "2") as url:
        recipe = yaml.safe_load(open(os.path.join(ROOT, "recipes", "mindgym_text.yaml")))
        recipe["generated_dataset_config"]["length"] = a.rows
        recipe["export_path"] = os.path.join(tmp, "out", "result.jsonl")
        recipe["np"] = 2
        for step in recipe["process"]:
            for args in step.values():
                if isinstance(args, dict):
                    args.pop("cache_dir", None)
        path = os.path.join(tmp, "recipe.yaml")
        yaml.safe_dump(recipe, open(path, "w"))
        env = dict(os.environ, OPENAI_BASE_URL=url, OPENAI_API_KEY="EMPTY", MINDGYM_BACKEND="api", MINDGYM_MODEL="fake")
        exe = os.path.join(os.path.dirname(sys.executable), "dj-process")
        done = subprocess.run([exe, "--config", path], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        accepted = sum(1 for _ in open(recipe["export_path"]))
        s = server_stats(url)
    total = s["prompt_tokens"] + s["completion_tokens"]
    per = total / max(1, accepted)
    print(f"rows in: {a.rows}, accepted records: {accepted}, requests: {s['requests']}")
    print(f"prompt tokens per accepted record: {s['prompt_tokens'] / max(1, accepted):.0f}")
    print(f"completion tokens per accepted record: {s['completion_tokens'] / max(1, accepted):.0f}")
    print(f"total tokens per accepted record: {per:.0f} (target <= 10,600)")
    print(f"released pipeline: ~{RELEASED} prompt tokens per record; ratio {per / RELEASED:.3f} (target <= 0.20)")
    print(json.dumps({"tokens_per_record": round(per), "accepted": accepted}))


if __name__ == "__main__":
    main()
