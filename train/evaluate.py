"""`mindgym-eval --config configs/<name>.yaml`: every model (base + each curriculum stage) on the
benchmarks through evalscope, then one table (CSV + Markdown) with deltas against the base, and a chart.

Text benchmarks run on the local checkpoint (`llm_ckpt`) or a served model; multimodal ones need a
served model: the runner starts an OpenAI-compatible server per checkpoint (vLLM on a GPU machine,
`swift deploy` on CPU), waits until it answers, and always stops it; or it uses `endpoint`.
A rerun skips evaluations whose report already exists. Builders are pure; `main` only runs them."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional

from .common import OFFLINE_ENV, ConfigError, find_program, parse_cli
from .eval_config import MM_BENCHMARKS, EvalConfig, EvalModel, load_eval_config
from .metrics import review_figures, wilson

SERVED = "<served>"  # a served task's api_url in the plan, until the runner has started the server


def work_dir(cfg: EvalConfig, model: EvalModel, bench: str) -> str:
    return os.path.join(cfg.output_dir, model.name, bench)


def report_path(cfg: EvalConfig, model: EvalModel, bench: str) -> str:
    return os.path.join(work_dir(cfg, model, bench), "reports", model.name, f"{bench}.json")


def needs_server(cfg: EvalConfig, bench: str) -> bool:
    return bench in MM_BENCHMARKS or cfg.text_eval == "served" or cfg.endpoint is not None


def build_task_config(
    cfg: EvalConfig, model: EvalModel, bench: str, api_url: Optional[str] = None, served_name: Optional[str] = None
) -> Dict[str, Any]:
    """The evalscope TaskConfig (as a dict) for one model on one benchmark."""
    args = cfg.benchmarks[bench].model_dump(exclude_none=True)
    limit = args.pop("limit", None)
    batch = args.pop("eval_batch_size", cfg.eval_batch_size)
    task: Dict[str, Any] = {
        "model_id": model.name,
        "datasets": [bench],
        "work_dir": work_dir(cfg, model, bench),
        "no_timestamp": True,
        "eval_batch_size": batch,
        "generation_config": dict(cfg.generation),
    }
    if args:
        task["dataset_args"] = {bench: args}
    if limit is not None:
        task["limit"] = limit
    if api_url is not None:
        task.update(
            model=served_name or model.name,
            eval_type="openai_api",
            api_url=api_url,
            api_key=os.environ.get(cfg.endpoint.api_key_env if cfg.endpoint else "OPENAI_API_KEY", "EMPTY"),
        )
    else:
        task.update(
            model=model.path,
            eval_type="llm_ckpt",
            model_args=dict(cfg.model_args or {"precision": "torch.float32", "device_map": "cpu"}),
        )
        gen = task["generation_config"]
        if "temperature" in gen and not gen.get("temperature"):
            gen.pop("temperature")
            gen["do_sample"] = False
    return task


def serve_backend(cfg: EvalConfig) -> str:
    if cfg.serve.backend != "auto":
        return cfg.serve.backend
    try:
        import torch

        gpu = torch.cuda.is_available()
    except ImportError:
        gpu = False
    import importlib.util

    return "vllm" if gpu and importlib.util.find_spec("vllm") is not None else "swift"


def build_serve_argv(cfg: EvalConfig, model: EvalModel, port: int) -> List[str]:
    s = cfg.serve
    if serve_backend(cfg) == "vllm":
        return [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            model.path,
            "--served-model-name",
            model.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *s.extra_args,
        ]
    argv = [
        "swift",
        "deploy",
        "--model",
        model.path,
        "--infer_backend",
        "transformers",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--served_model_name",
        model.name,
        "--max_new_tokens",
        str(s.max_new_tokens or cfg.generation.get("max_tokens", 1024)),
    ]
    if s.model_type:
        argv += ["--model_type", s.model_type]
    if s.template:
        argv += ["--template", s.template]
    if s.external_plugins:
        argv += ["--external_plugins", *s.external_plugins]
    return argv + list(s.extra_args)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, proc: Optional[subprocess.Popen], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"server at {url} did not answer within {timeout:.0f} s")


@contextmanager
def served(cfg: EvalConfig, model: EvalModel) -> Iterator[Dict[str, str]]:
    """An OpenAI-compatible endpoint for `model`: the configured one, or a server we start and always stop."""
    if cfg.endpoint:
        url = cfg.endpoint.url.rstrip("/")
        wait_ready(url, None, 10)
        yield {"url": url, "model": cfg.endpoint.model or model.name}
        return
    port = cfg.serve.port or free_port()
    argv = build_serve_argv(cfg, model, port)
    log = open(os.path.join(cfg.output_dir, f"server_{model.name}.log"), "w")
    print(f"[{model.name}] starting server: {' '.join(argv)}", flush=True)
    env = {**os.environ, **OFFLINE_ENV}
    proc = subprocess.Popen(
        [find_program(argv[0])] + argv[1:], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_ready(url, proc, cfg.serve.start_timeout)
        yield {"url": url, "model": model.name}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def read_score(path: str) -> float:
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    return float(report["metrics"][0]["score"])


def run_one(task: Dict[str, Any]) -> None:
    from evalscope import run_task

    run_task(task_cfg=task)


def plan(cfg: EvalConfig) -> List[Dict[str, Any]]:
    """Every evaluation in the order `evaluate` runs them, [{model, bench, served, task}]: per model its benchmarks
    on the local checkpoint, then those through a server (one for them all). A served task names the configured
    endpoint, or `SERVED` until the runner has started the server."""
    steps = []
    for model in cfg.models:
        local = [b for b in cfg.benchmarks if not needs_server(cfg, b)]
        for bench in local + [b for b in cfg.benchmarks if b not in local]:
            served = bench not in local
            if not served:
                url, name = None, None
            elif cfg.endpoint:
                url, name = cfg.endpoint.url.rstrip("/"), cfg.endpoint.model or model.name
            else:
                url, name = SERVED, model.name
            task = build_task_config(cfg, model, bench, url, name)
            steps.append({"model": model, "bench": bench, "served": served, "task": task})
    return steps


def evaluate(cfg: EvalConfig, run_task: Callable[[Dict[str, Any]], None] = run_one) -> Dict[str, Dict[str, float]]:
    """Execute `plan`, skipping evaluations whose report exists; then the results table and chart."""
    os.makedirs(cfg.output_dir, exist_ok=True)
    os.environ.update(OFFLINE_ENV)
    steps = plan(cfg)
    for model in cfg.models:
        todo = []
        for step in (s for s in steps if s["model"] is model):
            if os.path.isfile(report_path(cfg, model, step["bench"])):
                print(f"[{model.name}] {step['bench']}: done earlier", flush=True)
            elif step["served"]:
                todo.append(step)
            else:
                print(f"[{model.name}] {step['bench']} (local checkpoint)", flush=True)
                run_task(step["task"])
        if todo:
            with served(cfg, model) as ep:
                for step in todo:
                    print(f"[{model.name}] {step['bench']} (served at {ep['url']})", flush=True)
                    run_task({**step["task"], "api_url": ep["url"], "model": ep["model"]})
    scores: Dict[str, Dict[str, float]] = {m.name: {} for m in cfg.models}
    figures: Dict[str, Dict[str, Dict[str, Any]]] = {m.name: {} for m in cfg.models}
    for step in steps:
        model, bench = step["model"], step["bench"]
        scores[model.name][bench] = read_score(report_path(cfg, model, bench))
        figures[model.name][bench] = review_figures(work_dir(cfg, model, bench), model.name, bench)
    write_results(cfg, scores, figures)
    return scores


def result_rows(
    cfg: EvalConfig, scores: Dict[str, Dict[str, float]], figures: Dict[str, Dict[str, Dict[str, Any]]]
) -> List[List[str]]:
    """The results table, header first: per model its score on each benchmark (%), the delta against the first
    model, and from evalscope's reviews the problems scored, the score's 95% interval (Wilson) and the share of
    replies that reason before they answer (empty where no review was found)."""
    benches = list(cfg.benchmarks)
    base = cfg.models[0].name
    header = ["model"] + benches + [f"{b} delta" for b in benches]
    for b in benches:
        header += [f"{b} n", f"{b} ci95 low", f"{b} ci95 high", f"{b} reasons first"]
    rows = [header]
    for m in cfg.models:
        s = scores[m.name]
        row = (
            [m.name]
            + [f"{100 * s[b]:.2f}" for b in benches]
            + [f"{100 * (s[b] - scores[base][b]):+.2f}" for b in benches]
        )
        for b in benches:
            n = figures[m.name][b]["n"]
            low, high = wilson(s[b] * n, n)
            first = figures[m.name][b]["reasons_first"]
            row += (
                [str(n), f"{100 * low:.2f}", f"{100 * high:.2f}", f"{100 * first / n:.2f}"] if n else ["0", "", "", ""]
            )
        rows.append(row)
    return rows


def write_results(
    cfg: EvalConfig, scores: Dict[str, Dict[str, float]], figures: Dict[str, Dict[str, Dict[str, Any]]]
) -> None:
    """results.csv and results.md (see `result_rows`) and results.png (scores with their intervals)."""
    benches = list(cfg.benchmarks)
    rows = result_rows(cfg, scores, figures)
    with open(os.path.join(cfg.output_dir, "results.csv"), "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with open(os.path.join(cfg.output_dir, "results.md"), "w") as f:
        f.write("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]) + "\n")
        for r in rows[1:]:
            f.write("| " + " | ".join(r) + " |\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(benches) * len(cfg.models) / 2), 4))
    width = 0.8 / len(cfg.models)
    for i, m in enumerate(cfg.models):
        xs = [j + i * width for j in range(len(benches))]
        heights = [100 * scores[m.name][b] for b in benches]
        bounds = [wilson(scores[m.name][b] * figures[m.name][b]["n"], figures[m.name][b]["n"]) for b in benches]
        errors = [
            [h - 100 * lo if figures[m.name][b]["n"] else 0 for h, (lo, _), b in zip(heights, bounds, benches)],
            [100 * hi - h if figures[m.name][b]["n"] else 0 for h, (_, hi), b in zip(heights, bounds, benches)],
        ]
        ax.bar(xs, heights, width, yerr=errors, capsize=3, label=m.name)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(benches))], benches)
    ax.set_ylabel("score (%)")
    ax.set_title("MindGYM curriculum: score per benchmark (95% Wilson intervals)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(cfg.output_dir, "results.png"), dpi=120)
    plt.close(fig)


def print_tasks(cfg: EvalConfig) -> None:
    """The dry run: one evalscope task config per model and benchmark (JSON lines); what is not there yet on stderr."""
    if cfg.curriculum_pending:
        print(
            f"mindgym-eval: no curriculum stages found yet in {cfg.curriculum_pending} (no curriculum_state.json; "
            f"run mindgym-train first): showing {', '.join(m.name for m in cfg.models)} only",
            file=sys.stderr,
        )
    if cfg.missing:
        print(f"mindgym-eval: warning: not there yet: {', '.join(cfg.missing)}", file=sys.stderr)
    for step in plan(cfg):
        print(json.dumps(step["task"]))


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_cli(
        "mindgym-eval",
        __doc__,
        "evaluation config YAML (see configs/)",
        "print the evalscope task configs and exit",
        argv,
    )
    try:
        cfg = load_eval_config(args.config, dry_run=args.dry_run)
        if cfg.endpoint and not args.dry_run:
            try:
                wait_ready(cfg.endpoint.url.rstrip("/"), None, 10)
            except RuntimeError as e:
                raise ConfigError(f"endpoint unreachable: {e}") from None
    except ConfigError as e:
        sys.exit(f"mindgym-eval: {e}")
    if args.dry_run:
        print_tasks(cfg)
        return
    try:
        if cfg.winrate:
            from .winrate import run_winrate

            run_winrate(cfg)
        evaluate(cfg)
    except (RuntimeError, OSError) as e:  # a server that never came up, a report evalscope did not write
        sys.exit(f"mindgym-eval: {e}")
    with open(os.path.join(cfg.output_dir, "results.md"), encoding="utf-8") as f:
        print(f.read())
    print(f"table: {os.path.join(cfg.output_dir, 'results.csv')}; chart: {os.path.join(cfg.output_dir, 'results.png')}")


if __name__ == "__main__":
    main()
