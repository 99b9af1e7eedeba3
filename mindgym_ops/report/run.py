"""What a report reads: the export (a JSONL file, or the folder of JSON files Data-Juicer's Ray executor
writes) and the run's job folder, which Data-Juicer puts beside the export unless the recipe sets
`work_dir`: `<export dir>/<job_id>/` holds MindGYM's per-op counts (`mindgym_counts/`), a copy of the
recipe, Data-Juicer's events and its logs, and, when the run opened Data-Juicer's tracer, `trace/`."""

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jsonlines
import yaml

from ..ops.counters import COUNTS_DIR, OpCounters

# the default executor logs one such line per op; the Ray executor runs ops lazily and logs none
_OP_DONE = re.compile(r"\[(\d+)/\d+\] OP \[([\w.-]+)\] Done in ([\d.]+)s\. Left (\d+) samples\.")
_LOG_LEVELS = ("_DEBUG", "_ERROR", "_WARNING")
TRACE_DIR, TRACE_PREFIX = "trace", "sample_trace-"


class ReportError(Exception):
    """Why no report can be written, in one line."""


@dataclass
class Step:
    """One op of the recipe, with what is known of it: MindGYM counts, and Data-Juicer's log line."""

    index: int  # 1-based position in the recipe's process list
    op: str
    counts: Optional[Dict[str, Any]] = None
    left: Optional[int] = None
    seconds: Optional[float] = None
    rows_in: Optional[int] = None
    rows_out: Optional[int] = None
    source: str = ""  # where rows_in/rows_out come from

    @property
    def mindgym(self) -> bool:
        return self.op.startswith("mindgym_")


@dataclass
class Run:
    export: Path
    rows: List[Dict[str, Any]]
    job_dir: Path
    steps: List[Step]
    executor: str = "default"
    wall_seconds: Optional[float] = None
    recipe: Dict[str, Any] = field(default_factory=dict)
    traces: Optional[Dict[str, List[Dict[str, Any]]]] = None  # {op: rows it dropped}; None: no tracer


def export_files(export: Path) -> List[Path]:
    if export.is_dir():
        files = sorted(p for p in export.iterdir() if p.suffix in (".json", ".jsonl") and p.is_file())
        if not files:
            raise ReportError(f"export folder has no .json/.jsonl files: {export}")
        return files
    if not export.is_file():
        raise ReportError(f"export not found: {export}")
    return [export]


def read_rows(export: Path) -> List[Dict[str, Any]]:
    rows: List[Dict[str, Any]] = []
    for path in export_files(export):
        with jsonlines.open(path) as reader:
            try:
                rows.extend(reader.iter(type=dict, skip_empty=True))
            except jsonlines.InvalidLineError as e:
                detail = getattr(e.__cause__, "msg", "not a JSON object")
                raise ReportError(f"not JSON lines: {path}:{e.lineno}: {detail}") from None
    stats_file = export.with_name(f"{export.stem}_stats.jsonl")
    # without keep_stats_in_res_ds the scores live in a separate file, line for line
    if export.is_file() and stats_file.is_file() and not any("__dj__stats__" in r for r in rows):
        stats = read_rows(stats_file)
        if len(stats) == len(rows):
            for r, s in zip(rows, stats):
                r.update(s)
    return rows


def _completed_export(job_dir: Path) -> Tuple[Optional[str], Optional[float], str]:
    """(export path, seconds, executor) from the job's Data-Juicer events."""
    out, seconds, executor = None, None, "default"
    for path in sorted(job_dir.glob("events_*.jsonl")):
        with jsonlines.open(path) as reader:  # a line cut short by a killed job is passed over
            events = list(reader.iter(type=dict, skip_empty=True, skip_invalid=True))
        for event in events:
            if event.get("event_type") == "job_start":
                executor = (event.get("config") or {}).get("executor_type") or executor
            elif event.get("event_type") == "job_complete":
                meta = event.get("metadata") or {}
                out, seconds = meta.get("output_path"), meta.get("duration_seconds", event.get("duration"))
    return out, seconds, executor


def find_job_dir(export: Path) -> Path:
    """The newest job folder beside the export whose counts exist, preferring jobs that exported to it."""
    jobs = [d.parent for d in export.parent.glob(f"*/{COUNTS_DIR}") if any(d.glob("*.json"))]
    if not jobs:
        raise ReportError(
            f"no MindGYM counts for {export}: expected {export.parent}/<job_id>/{COUNTS_DIR}/*.json "
            "(pass --work-dir if the recipe sets work_dir)"
        )
    mine = [d for d in jobs if _completed_export(d)[0] == str(export.resolve())]
    return max(mine or jobs, key=lambda d: max(p.stat().st_mtime for p in (d / COUNTS_DIR).glob("*.json")))


def recipe_ops(job_dir: Path) -> Tuple[Dict[str, Any], List[str]]:
    """The recipe copy Data-Juicer keeps in the job folder, and its op names in order."""
    for path in sorted(job_dir.glob("*.y*ml")):
        if path.name == "cli.yaml":
            continue
        recipe = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(recipe, dict) and recipe.get("process"):
            return recipe, [next(iter(s)) if isinstance(s, dict) else str(s) for s in recipe["process"]]
    return {}, []


def op_log_lines(job_dir: Path) -> Dict[int, Tuple[str, float, int]]:
    """{step index: (op, seconds, rows left)} from Data-Juicer's main log (gzipped once the run ends)."""
    done: Dict[int, Tuple[str, float, int]] = {}
    for path in sorted((job_dir / "logs").rglob("*.txt*")):
        if any(path.name.split(".txt")[0].endswith(s) for s in _LOG_LEVELS):
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            for m in _OP_DONE.finditer(f.read()):
                done[int(m.group(1))] = (m.group(2), float(m.group(3)), int(m.group(4)))
    return done


def op_counts(job_dir: Path, names: List[str]) -> Dict[int, Dict[str, Any]]:
    """{step index: summed counts} for the MindGYM ops of the recipe (all of them when there is no recipe)."""
    counts_dir = job_dir / COUNTS_DIR
    instances: Dict[str, List[str]] = {}
    for path in sorted(counts_dir.glob("*.json"), key=lambda p: p.stat().st_mtime):
        op, instance = path.name.split(".")[:2]
        if instance not in instances.setdefault(op, []):
            instances[op].append(instance)
    names = names or list(instances)  # no recipe copy: the order the ops first wrote
    out = {}
    for index, op in enumerate(names, 1):
        if op not in instances:
            continue
        if names.count(op) == len(instances[op]) > 1:  # an op used twice: its copies in the order they ran
            instance = instances[op][names[:index].count(op) - 1]
        else:  # once in the recipe: every copy of it (Ray actors build their own)
            instance = "*"
        out[index] = OpCounters(op, instance, str(job_dir)).totals()
    return out


def read_traces(job_dir: Path) -> Optional[Dict[str, List[Dict[str, Any]]]]:
    """{op: the rows it dropped} from Data-Juicer's tracer (`open_tracer: true`: up to `trace_num` rows per op in
    `trace/sample_trace-<op>.jsonl`); None when the run opened no tracer. A mapper's traced text change
    (original_text / processed_text) is not a dropped row and is left out."""
    folder = job_dir / TRACE_DIR
    if not folder.is_dir():
        return None
    traces: Dict[str, List[Dict[str, Any]]] = {}
    for path in sorted(folder.glob(f"{TRACE_PREFIX}*.jsonl")):
        with jsonlines.open(path) as reader:
            rows = [r for r in reader.iter(type=dict, skip_empty=True, skip_invalid=True) if "processed_text" not in r]
        if rows:
            traces[path.stem[len(TRACE_PREFIX) :]] = rows
    return traces


def derive_rows(steps: List[Step], exported: int) -> None:
    """Rows in and out of each step: Data-Juicer's log where it has one, else MindGYM counts, else the
    neighbouring steps (a Data-Juicer op passes on what the next op reads in; the last one, the export)."""
    previous: Optional[int] = None
    for i, step in enumerate(steps):
        after = steps[i + 1] if i + 1 < len(steps) else None
        step.rows_in = step.counts["rows_in"] if step.counts else previous
        if step.left is not None:
            step.rows_out, step.source = step.left, "Data-Juicer log"
        elif step.counts:
            step.rows_out, step.source = step.counts["kept"], "MindGYM counts"
        elif after is not None and after.counts:
            step.rows_out, step.source = after.counts["rows_in"], f"rows in of {after.op}"
        elif after is None:
            step.rows_out, step.source = exported, "export"
        if step.counts and step.left is not None:
            step.source = "MindGYM counts, Data-Juicer log"
        previous = step.rows_out


def load_run(export: str, work_dir: Optional[str] = None) -> Run:
    path = Path(export).expanduser().resolve()
    rows = read_rows(path)
    job_dir = Path(work_dir).expanduser().resolve() if work_dir else find_job_dir(path)
    if not any((job_dir / COUNTS_DIR).glob("*.json")):
        raise ReportError(f"no MindGYM counts in {job_dir / COUNTS_DIR}")
    recipe, names = recipe_ops(job_dir)
    counts = op_counts(job_dir, names)
    names = names or [c["op"] for _, c in sorted(counts.items())]
    logged = op_log_lines(job_dir)
    steps = []
    for index, op in enumerate(names, 1):
        step = Step(index, op, counts.get(index))
        if index in logged and logged[index][0] == op:
            step.seconds, step.left = logged[index][1], logged[index][2]
        steps.append(step)
    derive_rows(steps, len(rows))
    _, seconds, executor = _completed_export(job_dir)
    return Run(path, rows, job_dir, steps, executor, seconds, recipe, read_traces(job_dir))
