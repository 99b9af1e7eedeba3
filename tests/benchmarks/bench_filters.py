"""Judge-filter throughput against the loopback server with a fixed per-request latency.

Our `mindgym_depth_breadth_filter` and `mindgym_self_consistency_filter` (k=4 solves + 1 judge per
row) batch their calls; Data-Juicer's `llm_difficulty_score_filter` in API mode makes one call at
a time. Same rows, same server, same np (1, in-process), one run.

    python tests/benchmarks/bench_filters.py [--rows 256] [--latency 0.2] [--skip-dj]"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _server import served, server_stats  # noqa: E402
from data_juicer.utils.constant import Fields  # noqa: E402


def rows(n):
    return {
        "text": [f"Question {i}: how long is the river?" for i in range(n)],
        "multihop_question": [f"Question {i}: how long is the river?" for i in range(n)],
        "multihop_answer": ["The following Thursday, because the report is due within three days."] * n,
        "sub_questions": [[]] * n,
        "images": [[]] * n,
        "mindgym_row_id": [f"r{i}" for i in range(n)],
        Fields.stats: [{} for _ in range(n)],
    }


def timed(name, op, n, url, calls_per_row):
    if op.is_batched_op():  # warm up: client, event loop and imports are not per-row costs
        warm = rows(4)
        warm["mindgym_row_id"] = [f"warm{i}" for i in range(4)]
        op.compute_stats_batched(warm)
    before = server_stats(url)["requests"]
    t = time.perf_counter()
    if op.is_batched_op():
        op.compute_stats_batched(rows(n))
    else:
        data = rows(n)
        for i in range(n):
            op.compute_stats_single({k: v[i] for k, v in data.items()})
    dt = time.perf_counter() - t
    sent = server_stats(url)["requests"] - before
    print(f"{name:<34} {n / dt:8.1f} rows/s  ({sent} requests, {calls_per_row} per row, {dt:.1f} s)")
    return n / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--skip-dj", action="store_true")
    a = ap.parse_args()
    from mindgym_ops.ops.mindgym_depth_breadth_filter import MindgymDepthBreadthFilter
    from mindgym_ops.ops.mindgym_self_consistency_filter import MindgymSelfConsistencyFilter

    with served(a.latency) as url:
        os.environ["OPENAI_BASE_URL"] = url
        os.environ.setdefault("OPENAI_API_KEY", "EMPTY")
        params = {"max_concurrency": a.concurrency}
        ours = timed(
            "mindgym_depth_breadth_filter",
            MindgymDepthBreadthFilter(backend="api", model="fake", model_params=params),
            a.rows,
            url,
            1,
        )
        timed(
            "mindgym_self_consistency_filter",
            MindgymSelfConsistencyFilter(backend="api", model="fake", model_params=params),
            a.rows,
            url,
            5,
        )
        bound = a.concurrency / a.latency
        print(f"depth/breadth share of the ideal bound ({bound:.0f} rows/s): {ours / bound:.2f} (target >= 0.80)")
        if not a.skip_dj:
            from data_juicer.ops.filter.llm_difficulty_score_filter import LLMDifficultyScoreFilter

            n = max(16, a.rows // 8)  # one call at a time: a smaller sample keeps the run short
            dj = timed(
                "llm_difficulty_score_filter (DJ)",
                LLMDifficultyScoreFilter(api_or_hf_model="fake", input_keys=["text"]),
                n,
                url,
                1,
            )
            print(
                f"ratio mindgym_depth_breadth_filter / llm_difficulty_score_filter: {ours / dj:.1f}x "
                f"(target >= 20x at np 1)"
            )


if __name__ == "__main__":
    main()
