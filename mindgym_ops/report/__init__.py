"""`mindgym-report <export>`: one self-contained `report.html` beside a run's export (funnel by op,
coverage, scores, substance, cost, example records, and the rows each op dropped when the run opened Data-Juicer's
tracer).

    mindgym-report outputs/mindgym_text/result.jsonl      # prints outputs/mindgym_text/report.html

The export is a JSONL file, or the folder of JSON files the Ray executor writes; the per-op counts come
from the run's job folder beside it (or `--work-dir` when the recipe set `work_dir`)."""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from .page import render
from .run import ReportError, load_run
from .sections import cost, coverage, dropped_rows, examples, funnel, scores, substance

__all__ = ["ReportError", "build_report", "main"]


def build_report(export: str, work_dir: Optional[str] = None, out: Optional[str] = None, n_examples: int = 6) -> Path:
    run = load_run(export, work_dir)
    context = {
        "export": str(run.export),
        "export_name": run.export.name,
        "job_dir": str(run.job_dir),
        "rows": len(run.rows),
        "lang": (run.rows[0].get("language") if run.rows else None) or "en",
        "funnel": funnel(run),
        "coverage": coverage(run.rows, run.recipe),
        "scores": scores(run.rows, run.steps),
        "substance": substance(run),
        "cost": cost(run),
        "examples": examples(run.rows, n_examples),
        "dropped": dropped_rows(run),
    }
    dataset = run.recipe.get("dataset_path")
    # relative image paths are relative to the input file (Data-Juicer's convention), else to the export
    roots = ([Path(dataset).parent] if isinstance(dataset, str) else []) + [run.export.parent, Path.cwd()]
    target = Path(out) if out else run.export.parent / "report.html"
    target.write_text(render(context, roots), encoding="utf-8")
    return target


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="mindgym-report", description=__doc__.split("\n\n")[0])
    ap.add_argument("export", help="the run's export_path: a .jsonl file, or the Ray executor's folder of JSON files")
    ap.add_argument(
        "--work-dir", help="the run's job folder holding mindgym_counts/ (default: found beside the export)"
    )
    ap.add_argument("--out", help="where to write the page (default: report.html beside the export)")
    ap.add_argument("--examples", type=int, default=6, help="example records to show")
    args = ap.parse_args(argv)
    try:
        path = build_report(args.export, args.work_dir, args.out, args.examples)
    except ReportError as e:
        print(f"mindgym-report: {e}", file=sys.stderr)
        sys.exit(1)
    print(path)
