"""Our ops' own time per row, against a zero-latency loopback server.

The five LLM ops of the text pipeline run in turn on the same rows (background, seed questions,
multi-hop question, depth/breadth judge, self-consistency with k=4 solves + 1 agreement call),
with the request cache on. Each op's wall time is split into transport (time inside the backend's
`generate`: the openai client, HTTP and the server process) and our own time (prompt rendering,
cache lookups and writes, parsing, validation, provenance, counters).

    python tests/benchmarks/bench_overhead.py [--rows 256]"""

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _server import served, server_stats  # noqa: E402
from data_juicer.utils.constant import Fields  # noqa: E402

TARGET_MS = 2.0


class TransportClock:
    """Wraps a backend's `generate`; counts the time spent in it, less our cache writes (on_reply)."""

    def __init__(self, llm):
        self.seconds = 0.0
        backend = llm.backend
        inner = backend.generate

        def generate(conversations, sampling, schema, on_reply=None, request_ids=None):
            ours = [0.0]

            def timed_reply(j, reply):
                t = time.perf_counter()
                on_reply(j, reply)
                ours[0] += time.perf_counter() - t

            t = time.perf_counter()
            out = inner(conversations, sampling, schema, timed_reply if on_reply else None, request_ids)
            self.seconds += time.perf_counter() - t - ours[0]
            return out

        backend.generate = generate


def first_rows(n):
    return {
        "text": [None] * n,
        "query": [None] * n,
        "response": [None] * n,
        "mindgym_row_id": [f"r{i}" for i in range(n)],
        Fields.meta: [{} for _ in range(n)],
    }


def run_op(name, op, samples, mapper):
    clock = TransportClock(op.llm)
    n = len(next(iter(samples.values())))
    t = time.perf_counter()
    if mapper:
        out = op.process_batched(samples)
    else:
        samples.setdefault(Fields.stats, [{} for _ in range(n)])
        out = op.compute_stats_batched(samples)
    wall = time.perf_counter() - t
    own = wall - clock.seconds
    print(
        f"{name:<34} {n:4d} rows  wall {wall / n * 1e3:6.2f} ms/row  transport {clock.seconds / n * 1e3:6.2f} ms/row"
        f"  own {own / n * 1e3:5.2f} ms/row  ({op.llm.requests} requests)"
    )
    return out, own, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--concurrency", type=int, default=32)
    a = ap.parse_args()
    from mindgym_ops.ops.mindgym_background_mapper import MindgymBackgroundMapper
    from mindgym_ops.ops.mindgym_depth_breadth_filter import MindgymDepthBreadthFilter
    from mindgym_ops.ops.mindgym_multihop_qa_mapper import MindgymMultihopQaMapper
    from mindgym_ops.ops.mindgym_seed_qa_mapper import MindgymSeedQaMapper
    from mindgym_ops.ops.mindgym_self_consistency_filter import MindgymSelfConsistencyFilter

    with tempfile.TemporaryDirectory() as cache, served(0.0, "--solve-every", "2") as url:
        os.environ["OPENAI_BASE_URL"] = url
        os.environ.setdefault("OPENAI_API_KEY", "EMPTY")
        common = dict(backend="api", model="fake", model_params={"max_concurrency": a.concurrency}, cache_dir=cache)
        steps = [
            ("mindgym_background_mapper", MindgymBackgroundMapper(**common), True),
            ("mindgym_seed_qa_mapper", MindgymSeedQaMapper(**common), True),
            ("mindgym_multihop_qa_mapper", MindgymMultihopQaMapper(**common), True),
            ("mindgym_depth_breadth_filter", MindgymDepthBreadthFilter(**common), False),
            ("mindgym_self_consistency_filter", MindgymSelfConsistencyFilter(k=4, **common), False),
        ]
        # warm up each op once (client, event loop, templates, sqlite): not a per-row cost
        warm = first_rows(4)
        warm["mindgym_row_id"] = [f"warm{i}" for i in range(4)]
        for name, op, mapper in steps:
            warm, _, _ = run_op(f"(warm-up) {name}", op, warm, mapper)
            op.llm.requests = 0
        print("--")
        samples, per_op, before = first_rows(a.rows), [], server_stats(url)["requests"]
        for name, op, mapper in steps:
            samples, own, n = run_op(name, op, samples, mapper)
            per_op.append(own / n * 1e3)
        requests = server_stats(url)["requests"] - before
    print(f"server requests: {requests} ({requests / a.rows:.2f} per row)")
    print(f"our own time per row, slowest op: {max(per_op):.2f} ms (target <= {TARGET_MS} ms per op)")
    print(f"our own time per row, all five LLM ops together: {sum(per_op):.2f} ms")
    print(f"ratio slowest op / target: {max(per_op) / TARGET_MS:.2f} (<= 1.00 meets the target)")


if __name__ == "__main__":
    main()
