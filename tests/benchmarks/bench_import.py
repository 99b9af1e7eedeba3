"""Import cost of the pack: `import mindgym_ops` against `import data_juicer` (best of N fresh interpreters).

python tests/benchmarks/bench_import.py [--runs 5]"""

import argparse
import subprocess
import sys
import time


def best(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    base = best("import data_juicer", a.runs)
    ours = best("import mindgym_ops", a.runs)
    print(f"import data_juicer: {base:.2f} s")
    print(f"import mindgym_ops: {ours:.2f} s (includes data_juicer.ops, which registering any op needs)")
    print(f"difference: {ours - base:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
