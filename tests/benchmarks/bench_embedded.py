"""The main job, cold, on the embedded model, against what llama.cpp itself can do on this machine.

Runs `dj-process --config recipes/mindgym_text.yaml` with an empty request cache (outputs in a temp dir)
and prints: the wall time and the time per op (Data-Juicer's own per-op line), the tokens the model
read and wrote, llama.cpp's raw prompt-evaluation and greedy decode rates measured in the same run on
the same GGUF and threads, the single-stream floor (prompt tokens / prompt rate + completion tokens /
decode rate) and wall / floor. Below 1 would need several rows decoded together.

    python tests/benchmarks/bench_embedded.py [--rows 8] [--out DIR] [--seed N] [--recipe mindgym_text_zh.yaml]

It also re-checks every exported record with the substance checks. `--seed` replaces the recipe's
sampling seeds, to see how the record count spreads from run to run. `--out` keeps the export, the job
folder and the log (`DIR/dj.log`), e.g. for `mindgym-report`.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from _jobs import main_job_recipe, run_dj  # noqa: E402

from mindgym_ops.rules.checks import check_multihop, copied_seed  # noqa: E402

FIELDS = ("multihop_question", "multihop_answer", "thinking", "sub_questions")

_OP_DONE = re.compile(r"OP \[([\w.-]+)\] Done in ([\d.]+)s\. Left (\d+) samples\.")
_SUMMARY = re.compile(
    r"(mindgym_\w+): (\d+) rows in, kept (\d+)[^\n]*?; (\d+) requests[^\n]*?prompt (\d+) \+ completion (\d+)"
)


def raw_rates(threads: int) -> "tuple[float, float]":
    """llama.cpp's own prompt and decode rates on the packaged GGUF (tokens/s), no grammar, greedy."""
    from llama_cpp import Llama

    sys.path.insert(0, ROOT)
    from mindgym_ops.llm.packaged import gguf_path

    llm = Llama(model_path=str(gguf_path("qwen2.5-0.5b")), n_ctx=4096, n_threads=threads, n_batch=512, verbose=False)
    prompt = llm.tokenize(("The history of the river port and its grain exchange. " * 60).encode())[:768]
    llm.eval(prompt[:32])  # warm-up
    llm.reset()
    t = time.perf_counter()
    llm.eval(prompt)
    prompt_rate = len(prompt) / (time.perf_counter() - t)
    n, t = 128, time.perf_counter()
    for _ in range(n):  # greedy decode, one token per step, after the evaluated prompt
        llm.eval([llm.sample(temp=0.0)])
    decode_rate = n / (time.perf_counter() - t)
    llm.close()
    return prompt_rate, decode_rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--out", default=None)
    ap.add_argument("--seed", type=int, default=None, help="replace the recipe's sampling seeds (run-to-run spread)")
    ap.add_argument(
        "--recipe", default="mindgym_text.yaml", help="a recipe of recipes/ (mindgym_text_zh.yaml: Chinese)"
    )
    a = ap.parse_args()
    threads = os.cpu_count() or 2
    with tempfile.TemporaryDirectory() as scratch:
        tmp = os.path.abspath(a.out) if a.out else scratch
        os.makedirs(tmp, exist_ok=True)
        path = main_job_recipe(tmp, a.rows, a.seed, a.recipe)
        wall, log = run_dj(path, tmp)
        rows = [json.loads(line) for line in open(os.path.join(tmp, "out", "result.jsonl"))]
        records = len(rows)
        hard = sum(bool(json.loads(r["__dj__stats__"]["mindgym_solve_record"]).get("verified_hard")) for r in rows)
        real = sum(check_multihop(*(r[k] for k in FIELDS), None, r.get("language") or "en") is None for r in rows)
        copies = sum(bool(copied_seed(r["multihop_question"], r["sub_questions"])) for r in rows)
    prompt_rate, decode_rate = raw_rates(threads)
    ops = _SUMMARY.findall(log)
    prompt = sum(int(o[4]) for o in ops)
    completion = sum(int(o[5]) for o in ops)
    floor = prompt / prompt_rate + completion / decode_rate
    print(f"main job cold: {a.rows} rows -> {records} records, wall {wall:.0f} s ({wall / 60:.1f} min)")
    print(f"records that pass the substance checks (mindgym_ops.rules.checks.check_multihop): {real} of {records}")
    print(f"records whose question copies a seed question: {copies}")
    for r in rows:
        print(
            "  record: " + json.dumps({k: r[k] for k in ("multihop_question", "multihop_answer")}, ensure_ascii=False)
        )
    print(
        f"verified-hard records (answer worked out by code, solved less often than min_solve_rate): {hard}; the "
        f"strict band (keep_verified_hard: false) keeps {records - hard}"
    )
    for name, secs, left in _OP_DONE.findall(log):
        print(f"  {name}: {float(secs):.0f} s, {left} rows left")
    for name, rows_in, kept, requests, p, c in ops:
        print(f"  {name}: {rows_in} in, {kept} kept, {requests} requests, {p} prompt + {c} completion tokens")
    for line in log.splitlines():  # what the ops said about the run itself (a blind judge, say)
        if "| WARNING" in line and "mindgym_ops" in line:
            print(f"  warning: {line.split(' - ', 1)[-1]}")
    print(f"tokens: {prompt} prompt + {completion} completion")
    print(
        f"llama.cpp raw rates ({threads} threads): prompt {prompt_rate:.0f} tokens/s, decode {decode_rate:.1f} tokens/s"
    )
    print(
        f"single-stream floor: {floor:.0f} s ({floor / 60:.1f} min); wall / floor = {wall / floor:.2f} (target <= 1.1)"
    )
    print(
        json.dumps(
            {
                "wall_s": round(wall),
                "records": records,
                "records_passing_substance": real,
                "copies_of_a_seed": copies,
                "verified_hard": hard,
                "floor_s": round(floor),
                "wall_over_floor": round(wall / floor, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
