"""The MindGYM loop on real weights: the embedded model writes questions, trains on them, and is measured.

One command on a fresh clone after the README set-up, on the packaged Qwen2.5-Coder-0.5B:

1. synthesise: the main job (recipes/mindgym_text.yaml) twice, N/2 rows each: the training records with the
   recipe's sampling seed, the held-out records with another (`--heldout-seed`), never trained on;
2. the training records -> grounded curriculum rows (recipes/mindgym_curriculum_embedded.yaml, `--split`);
3. two held-out sets in the GSM8K layout: the held-out records whose answer code worked out (`mindgym-heldout`),
   and, since the 0.5B keeps few records, `--spans` year-span problems over invented reports made by code
   (tests/benchmarks/_spans.py), enough to see a change;
4. `mindgym-train` on a copy of configs/curriculum_embedded_cpu.yaml (only `data` and `output_dir` changed);
5. `mindgym-eval` on copies of configs/eval_embedded_cpu.yaml (only `output_dir`, `models` and `benchmarks`
   changed): the base model and every stage on each set, with 95% intervals and the share of replies that
   reason before they answer;

then prints one table (and writes it to `<out>/<curriculum>_<split>/loop.md`). Every step resumes after a crash:
the synthesis through its request cache, training from its stage checkpoints, evaluation skips what has a report.

    python tests/benchmarks/bench_loop.py [--rows 64] [--out outputs/bench_loop] [--heldout-seed 7]
        [--curriculum embedded|paper] [--split all|round_robin] [--spans 40]

`--curriculum paper` trains the paper's stage formats in the paper's order with the same settings on the same
records (the synthesis is shared: run it after the embedded one, into the same `--out`).

Takes up to about 2 hours on 2 cores (synthesis about 45 s per row, evaluation about 1 minute per 8 problems and
model)."""

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from _jobs import main_job_recipe, run_dj  # noqa: E402
from _spans import write_spans  # noqa: E402

BIN = os.path.dirname(sys.executable)


def step(title: str) -> float:
    print(f"[{time.strftime('%H:%M:%S')}] {title}", flush=True)
    return time.time()


def synthesise(folder: str, rows: int, seed: int) -> Dict[str, Any]:
    """The main job on `rows` rows with `seed`; its export and counts (an export already there is kept)."""
    export = os.path.join(folder, "out", "result.jsonl")
    if not os.path.isfile(export):
        run_dj(main_job_recipe(folder, rows, seed), folder, echo=True)
    records = [json.loads(line) for line in open(export, encoding="utf-8")]
    hard = sum(bool(json.loads(r["__dj__stats__"]["mindgym_solve_record"]).get("verified_hard")) for r in records)
    return {"export": export, "records": len(records), "verified_hard": hard}


# the paper's curriculum: its stage formats (stage 3 answer first) in its order, on the same records and settings
PAPER_STAGES = [
    {"name": "q_thinking_to_answer"},
    {"name": "q_answer_to_thinking"},
    {"name": "q_to_answer_thinking"},
    {"name": "q_to_answer"},
]


def curriculum(export: str, folder: str, recipe_name: str, split: str) -> str:
    out = os.path.join(folder, "curriculum.jsonl")
    if not os.path.isfile(out):
        recipe = yaml.safe_load(open(os.path.join(ROOT, "recipes", recipe_name)))
        recipe.update(dataset_path=export, export_path=out)
        recipe["process"][0]["mindgym_curriculum_mapper"]["split"] = split
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, "curriculum_recipe.yaml")
        yaml.safe_dump(recipe, open(path, "w"))
        run_dj(path, folder, "dj_curriculum.log")
    return out


def run(cmd: List[str], log: str) -> None:
    """A console script of the pack, its output to `log` and, line by line, to the terminal."""
    with open(log, "a") as f:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            f.write(line)
            if line.startswith(("[", "final model", "mindgym-", "|", "table")):
                print("    " + line.rstrip(), flush=True)
        if proc.wait() != 0:
            sys.exit(f"{cmd[0]} failed (exit {proc.returncode}); see {log}")


def config_copy(name: str, out: str, **changes) -> str:
    cfg = yaml.safe_load(open(os.path.join(ROOT, "configs", name)))
    cfg.update(changes)
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    yaml.safe_dump(cfg, open(path, "w"), sort_keys=False)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=64, help="rows synthesised in all, half for training, half held out")
    ap.add_argument("--out", default=os.path.join(ROOT, "outputs", "bench_loop"))
    ap.add_argument("--heldout-seed", type=int, default=7, help="sampling seed of the held-out synthesis")
    ap.add_argument(
        "--curriculum",
        choices=["embedded", "paper"],
        default="embedded",
        help="embedded: configs/curriculum_embedded_cpu.yaml as it is; paper: the same settings with the paper's "
        "stage formats and order (recipes/mindgym_curriculum.yaml), to compare on the same records",
    )
    ap.add_argument(
        "--split",
        choices=["all", "round_robin"],
        default="all",
        help="the curriculum mapper's split: all (every record in every stage: the 0.5B keeps about one row in "
        "three, and a quarter of a few records is one optimizer step) or round_robin (the paper's quarters)",
    )
    ap.add_argument("--spans", type=int, default=40, help="size of the second held-out set (year spans made by code)")
    a = ap.parse_args()
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    stages = yaml.safe_load(open(os.path.join(ROOT, "configs", "curriculum_embedded_cpu.yaml")))["stages"]
    stages = PAPER_STAGES if a.curriculum == "paper" else stages
    recipe_name = {"embedded": "mindgym_curriculum_embedded.yaml", "paper": "mindgym_curriculum.yaml"}[a.curriculum]
    variant = os.path.join(out, f"{a.curriculum}_{a.split}")
    os.makedirs(variant, exist_ok=True)
    recipe = yaml.safe_load(open(os.path.join(ROOT, "recipes", "mindgym_text.yaml")))
    seed = recipe["process"][0]["mindgym_background_mapper"]["sampling_params"]["seed"]
    clock = Clock(os.path.join(out, "minutes.json"))

    t = step(f"synthesise the training records: {a.rows // 2} rows, seed {seed}")
    train = synthesise(os.path.join(out, "train"), a.rows // 2, seed)
    clock.done("synthesis of the training records", t)
    t = step(f"synthesise the held-out records: {a.rows - a.rows // 2} rows, seed {a.heldout_seed}")
    held = synthesise(os.path.join(out, "heldout"), a.rows - a.rows // 2, a.heldout_seed)
    clock.done("synthesis of the held-out records", t)
    print(f"    records: training {train['records']}, held out {held['records']}", flush=True)

    step("curriculum rows and the held-out sets")
    rows = curriculum(train["export"], variant, recipe_name, a.split)
    sets = {"records": os.path.join(out, "heldout_records"), "spans": os.path.join(out, "heldout_spans")}
    done = subprocess.run(
        [os.path.join(BIN, "mindgym-heldout"), held["export"], "--out", sets["records"]], capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(done.stderr.strip().splitlines()[-1])
    heldout = json.loads(done.stdout)
    write_spans(sets["spans"], a.spans)
    print(f"    held-out problems: records {heldout}, spans made by code {a.spans}", flush=True)

    t = step("train the four stages (mindgym-train)")
    run_dir = os.path.join(variant, "curriculum")
    changes = {"data": rows, "output_dir": run_dir, **({"stages": PAPER_STAGES} if a.curriculum == "paper" else {})}
    path = config_copy("curriculum_embedded_cpu.yaml", variant, **changes)
    run([os.path.join(BIN, "mindgym-train"), "--config", path], os.path.join(variant, "train.log"))
    state = json.load(open(os.path.join(run_dir, "curriculum_state.json")))["stages"]
    clock.done(f"training ({a.curriculum}, {a.split})", t)

    t = step("evaluate the base model and every stage on both held-out sets (mindgym-eval)")
    base = yaml.safe_load(open(os.path.join(ROOT, "configs", "eval_embedded_cpu.yaml")))["benchmarks"]["gsm8k"]
    names = [st["name"] for st in stages]
    models = [{"name": n, "path": os.path.join(run_dir, f"{i:02d}_{n}", "final")} for i, n in enumerate(names, 1)]
    results = {}
    for name, folder in sets.items():
        eval_dir = os.path.join(variant, f"eval_{name}")
        bench = {"gsm8k": {**base, "dataset_id": folder}}
        path = config_copy("eval_embedded_cpu.yaml", eval_dir, output_dir=eval_dir, models=models, benchmarks=bench)
        run([os.path.join(BIN, "mindgym-eval"), "--config", path], os.path.join(variant, f"eval_{name}.log"))
        results[name] = read_results(eval_dir)
    clock.done(f"evaluation ({a.curriculum}, {a.split})", t)

    table = loop_table(a, train, held, heldout, stages, state, results, run_dir)
    table += "\n" + clock.summary(a.curriculum, a.split) + "\n"
    with open(os.path.join(variant, "loop.md"), "w") as f:
        f.write(table)
    print(table)


class Clock:
    """Each step's minutes, kept in `<out>/minutes.json` across resumed runs: a step that found its work done (the
    export there, every stage trained, every report written) keeps the minutes of the run that did it."""

    def __init__(self, path: str):
        self.path = path
        self.minutes = json.load(open(path)) if os.path.isfile(path) else {}

    def done(self, step: str, started: float) -> None:
        spent = (time.time() - started) / 60
        if spent > 0.2 or step not in self.minutes:  # a skipped step takes seconds
            self.minutes[step] = round(spent, 1)
            json.dump(self.minutes, open(self.path, "w"), indent=1)

    def summary(self, curriculum: str, split: str) -> str:
        mine = {k: v for k, v in self.minutes.items() if "(" not in k or f"({curriculum}, {split})" in k}
        steps = ", ".join(f"{k} {v:.0f} min" for k, v in mine.items())
        return f"minutes: {steps}; in all {sum(mine.values()):.0f} min"


def read_results(eval_dir: str) -> Dict[str, Dict[str, str]]:
    with open(os.path.join(eval_dir, "results.csv"), newline="") as f:
        return {r["model"]: r for r in csv.DictReader(f)}


def accuracy(r: Optional[Dict[str, str]]) -> str:
    """The score, the problems right of those scored and the 95% Wilson interval: "77.5% (31/40; 62-88)"."""
    if not r or not r.get("gsm8k n"):
        return "-"
    n, score, low, high = int(r["gsm8k n"]), float(r["gsm8k"]), float(r["gsm8k ci95 low"]), float(r["gsm8k ci95 high"])
    return f"{score:.1f}% ({round(score / 100 * n)}/{n}; {low:.0f}-{high:.0f})"


def loop_table(a, train, held, heldout, stages, state, results, run_dir) -> str:
    """The loop's one table: what was synthesised, what each stage trained on and how long, and how each model
    scored on the two held-out sets, with the share of its replies that reason before they answer."""
    lines = [
        f"rows synthesised: {a.rows} ({a.rows // 2} training, seed 42; {a.rows - a.rows // 2} held out, seed "
        f"{a.heldout_seed}); records: training {train['records']} ({train['verified_hard']} verified-hard), held out "
        f"{held['records']} ({held['verified_hard']} verified-hard); held-out problems: {heldout['written']} records "
        f"with an answer worked out by code, {a.spans} year spans made by code; curriculum split: {a.split}",
        "",
        "| model | trained on (rows) | train loss | minutes | held-out records: accuracy (95% CI) | reason first "
        "| year spans: accuracy (95% CI) | reason first |",
        "|---|---|---|---|---|---|---|---|",
    ]
    parts = {st["name"]: st.get("curriculum_stage", i) for i, st in enumerate(stages, 1)}
    for name in ["base"] + [st["name"] for st in stages]:
        st = state.get(name, {})
        trained = "-"
        if name != "base":
            data = os.path.join(run_dir, "data", f"stage{parts[name]}.jsonl")
            count = sum(1 for _ in open(data)) if os.path.isfile(data) else 0
            trained = f"curriculum stage {parts[name]} ({count})"
        loss = f"{st['train_loss']:.3f}" if st.get("train_loss") is not None else "-"
        minutes = f"{st['seconds'] / 60:.1f}" if st.get("seconds") else "-"
        cells = []
        for which in ("records", "spans"):
            r = results[which].get(name)
            first = f"{float(r['gsm8k reasons first']):.0f}%" if r and r.get("gsm8k reasons first") else "-"
            cells += [accuracy(r), first]
        lines.append(f"| {name} | {trained} | {loss} | {minutes} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
