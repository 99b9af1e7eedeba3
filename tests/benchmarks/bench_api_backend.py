"""Requests/s of the `api` backend against the loopback server with a fixed 200 ms latency,
at concurrency 1 and 32, and the share of the ideal bound (concurrency / latency).

    python tests/benchmarks/bench_api_backend.py [--latency 0.2] [--requests 512]"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _server import served  # noqa: E402

from mindgym_ops.llm import LLM  # noqa: E402
from mindgym_ops.schemas import DepthBreadth  # noqa: E402

JUDGE = [{"role": "user", "content": 'Rate it. Reply with JSON only: {"depth": <1-5>, ...}'}]


def measure(url: str, concurrency: int, n: int, latency: float) -> float:
    llm = LLM(backend="api", model="fake", model_params={"base_url": url, "max_concurrency": concurrency})
    llm.chat_batch([JUDGE] * 4, schema=DepthBreadth, keys=[f"warm{i}" for i in range(4)])
    t = time.perf_counter()
    res = llm.chat_batch([JUDGE] * n, schema=DepthBreadth, keys=[f"{concurrency}-{i}" for i in range(n)])
    dt = time.perf_counter() - t
    assert all(r.ok for r in res)
    rate = n / dt
    bound = concurrency / latency
    print(
        f"api backend, concurrency {concurrency:>2}: {rate:7.1f} requests/s  "
        f"(bound {bound:.0f}/s, {100 * rate / bound:.0f}% of bound)"
    )
    return rate / bound


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--requests", type=int, default=512)
    a = ap.parse_args()
    with served(a.latency) as url:
        measure(url, 1, 16, a.latency)
        share = measure(url, 32, a.requests, a.latency)
    print(f"ratio to ideal bound at concurrency 32: {share:.2f} (target >= 0.80)")


if __name__ == "__main__":
    main()
