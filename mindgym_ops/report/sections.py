"""The figures of each report section, computed from a loaded run (no HTML here)."""

import inspect
import json
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ..ops.mindgym_depth_breadth_filter import BREADTH, DEPTH, JUDGE_RECORD
from ..ops.mindgym_multihop_qa_mapper import MindgymMultihopQaMapper
from ..ops.mindgym_self_consistency_filter import SOLVE_RATE, SOLVE_RECORD
from ..ops.rows import FAILURE_KEY
from ..rules.answers import strip_answer_leak
from ..rules.checks import SubstanceThresholds, check_multihop, copied_seed
from ..rules.words import normalise
from ..schemas import CATEGORIES, IMAGE_PRINCIPLES, TEXT_PRINCIPLES
from .run import Run, Step

STATS, META = "__dj__stats__", "__dj__meta__"
FAILED = -1.0  # the judge filters' stat value for "no usable answer"
NONE_LABEL = "(none)"


def question(row: Dict[str, Any]) -> str:
    return row.get("multihop_question") or row.get("query") or ""


def answer(row: Dict[str, Any]) -> str:
    return row.get("multihop_answer") or row.get("response") or ""


def seeds(row: Dict[str, Any]) -> List[Dict[str, str]]:
    return [s for s in row.get("sub_questions") or [] if isinstance(s, dict)]


def stats(row: Dict[str, Any]) -> Dict[str, Any]:
    return row.get(STATS) or {}


def share(n: int, of: int) -> Dict[str, Any]:
    return {"n": n, "of": of, "pct": round(100.0 * n / of, 1) if of else None}


# funnel -------------------------------------------------------------------------------------------


def funnel(run: Run) -> List[Dict[str, Any]]:
    out = []
    for s in run.steps:
        c = s.counts or {}
        dropped = dict(c.get("dropped") or {})
        if not s.counts and s.rows_in is not None and s.rows_out is not None and s.rows_in > s.rows_out:
            dropped = {"removed by the op": s.rows_in - s.rows_out}
        out.append(
            {
                "index": s.index,
                "op": s.op,
                "mindgym": s.mindgym,
                "rows_in": s.rows_in,
                "kept": c.get("kept", s.rows_out),
                "rows_out": s.rows_out,
                "dropped": sorted(dropped.items(), key=lambda kv: -kv[1]),
                "dropped_total": sum(dropped.values()),
                "flagged": sorted((c.get("flagged") or {}).items(), key=lambda kv: -kv[1]),
                "seconds": s.seconds,
                "source": s.source,
            }
        )
    return out


# coverage -----------------------------------------------------------------------------------------


def ordered(seen: Iterable[str], known: Iterable[str]) -> List[str]:
    seen = set(seen)
    return [k for k in known if k in seen] + sorted(seen - set(known))


def op_args(recipe: Dict[str, Any], op: str) -> Optional[Dict[str, Any]]:
    """The arguments of the recipe's first `op` step ({} when it has none), None when the op is absent."""
    for step in recipe.get("process") or []:
        if isinstance(step, dict) and op in step:
            return step[op] or {}
    return None


def coverage(rows: List[Dict[str, Any]], recipe: Dict[str, Any]) -> Dict[str, Any]:
    cells = Counter(
        (r.get("reasoning_category") or NONE_LABEL, r.get("relationship_category") or NONE_LABEL) for r in rows
    )
    # what the recipe asked for shows too, so an area or principle that yielded nothing is a visible zero
    background, seed = op_args(recipe, "mindgym_background_mapper"), op_args(recipe, "mindgym_seed_qa_mapper") or {}
    asked_areas = list(background.get("categories") or CATEGORIES) if background is not None else []
    asked_principles = list(seed.get("principles") or []) + list(seed.get("image_principles") or [])
    areas = ordered(set(asked_areas) | {a for a, _ in cells}, CATEGORIES + (NONE_LABEL,))
    principles = ordered(
        set(asked_principles) | {p for _, p in cells}, TEXT_PRINCIPLES + IMAGE_PRINCIPLES + (NONE_LABEL,)
    )
    return {
        "areas": areas,
        "principles": principles,
        "cells": {a: {p: cells[(a, p)] for p in principles} for a in areas},
        "area_totals": {a: sum(cells[(a, p)] for p in principles) for a in areas},
        "principle_totals": {p: sum(cells[(a, p)] for a in areas) for p in principles},
        "languages": Counter(r.get("language") or NONE_LABEL for r in rows).most_common(),
        "images": sum(bool(r.get("images")) for r in rows),
    }


# scores -------------------------------------------------------------------------------------------


def histogram(values: List[float], bins: Iterable[float], failed_label: str) -> List[Tuple[str, int]]:
    counts = Counter(values)
    keys = sorted(set(bins) | {v for v in counts if v != FAILED})
    out = [(f"{round(k, 2):g}", counts[k]) for k in keys]
    if counts[FAILED]:
        out.append((failed_label, counts[FAILED]))
    return out


def judge_calibrations(rows: List[Dict[str, Any]], steps: Iterable[Step] = ()) -> List[Dict[str, Any]]:
    """Every distinct `judge_calibration` record: in the depth filter's counts (there even when no row
    survives), the judge records or the provenance of the rows."""
    found: Dict[str, Dict[str, Any]] = {}
    for step in steps:
        cal = ((step.counts or {}).get("notes") or {}).get("judge_calibration")
        if isinstance(cal, dict):
            found.setdefault(json.dumps(cal, sort_keys=True), cal)
    for r in rows:
        blobs = [stats(r).get(JUDGE_RECORD)] + list((r.get(META) or {}).values())
        for blob in blobs:
            record = blob if isinstance(blob, dict) else _json(blob)
            cal = record.get("judge_calibration") if isinstance(record, dict) else None
            if isinstance(cal, dict):
                found.setdefault(json.dumps(cal, sort_keys=True), cal)
    return list(found.values())


def _json(blob: Any) -> Any:
    if not isinstance(blob, str) or not blob.startswith("{"):
        return None
    try:
        return json.loads(blob)
    except json.JSONDecodeError:
        return None


def solve_bins(rows: List[Dict[str, Any]]) -> List[float]:
    """Every rate k attempts can give (0, 1/k, ..., 1), k read from the solve records."""
    ks = Counter()
    for r in rows:
        record = _json(stats(r).get(SOLVE_RECORD))
        if isinstance(record, dict) and record.get("attempts"):
            ks[len(record["attempts"])] += 1
    k = ks.most_common(1)[0][0] if ks else 0
    return [i / k for i in range(k + 1)] if k else []


def scores(rows: List[Dict[str, Any]], steps: Iterable[Step] = ()) -> Dict[str, Any]:
    def values(key: str) -> List[float]:
        return [float(stats(r)[key]) for r in rows if isinstance(stats(r).get(key), (int, float))]

    return {
        "charts": [
            ("Depth", DEPTH, histogram(values(DEPTH), range(1, 6), "judge failed")),
            ("Breadth", BREADTH, histogram(values(BREADTH), range(1, 6), "judge failed")),
            (
                "Solve rate",
                SOLVE_RATE,
                histogram(values(SOLVE_RATE), solve_bins(rows), "undecided"),
            ),
        ],
        "calibrations": judge_calibrations(rows, steps),
        "control": agreement_control(steps),
        "verification": verification(rows),
    }


def verification(rows: List[Dict[str, Any]]) -> Dict[str, int]:
    """How the exported answers are known: worked out by code from seed answers found in the document
    (`answer_source: code`), and of those the verified-hard ones, which the solver missed (kept as hard, not
    wrong)."""
    hard = 0
    for r in rows:
        record = _json(stats(r).get(SOLVE_RECORD))
        hard += bool(isinstance(record, dict) and record.get("verified_hard"))
    return {"of": len(rows), "code": sum(r.get("answer_source") == "code" for r in rows), "hard": hard}


def agreement_control(steps: Iterable[Step]) -> Dict[str, int]:
    """How often the self-consistency filter's agreement judge called its control, a non-answer, wrong
    (passed) or right (failed: its verdicts were set aside), over every step's counts."""
    tally = {"passed": 0, "failed": 0}
    for step in steps:
        found = ((step.counts or {}).get("notes") or {}).get("agree_control") or {}
        for k in tally:
            tally[k] += int(found.get(k) or 0)
    return tally


# substance ----------------------------------------------------------------------------------------


def _reason_total(steps: List[Step], match) -> int:
    return sum(
        n
        for s in steps
        if s.counts
        for kind in ("dropped", "flagged")
        for reason, n in s.counts[kind].items()
        if match(reason)
    )


def substance_limits(recipe: Dict[str, Any]) -> SubstanceThresholds:
    """The multi-hop op's substance thresholds as the recipe set them, else the op's own defaults."""
    defaults = inspect.signature(MindgymMultihopQaMapper.__init__).parameters
    args = op_args(recipe, "mindgym_multihop_qa_mapper") or {}

    def value(name: str) -> Any:
        return args.get(name, defaults[name].default)

    return SubstanceThresholds(
        float(value("max_seed_overlap")), int(value("min_seeds")), float(value("seed_use_overlap"))
    )


# the substance checks counted under their own code: (label, metric key, code, what it means)
SUBSTANCE_CHECKS = (
    (
        "Prompt parroting",
        "copies_prompt",
        "copies_prompt",
        'questions that talk about the task ("the single-hop questions", "the document")',
    ),
    ("Single-seed questions", "single_seed", "single_seed", "questions drawing on fewer than two seeds"),
    ("Stated answers", "stated_answers", "states_answer", "questions stating their own or a bridge answer"),
)


def substance(run: Run) -> Dict[str, Any]:
    rows, steps, limits = run.rows, run.steps, substance_limits(run.recipe)
    multihop = [s for s in steps if s.op == "mindgym_multihop_qa_mapper" and s.counts]
    attempted = sum(s.counts["rows_in"] for s in multihop)
    export_codes: Counter = Counter()
    for r in rows:
        if seeds(r) and question(r):
            failure = check_multihop(question(r), answer(r), r.get("thinking") or "", seeds(r), limits)
            export_codes[failure[0] if failure else "ok"] += 1
    copies = sum(bool(copied_seed(question(r), seeds(r), limits)) for r in rows)
    leaks = sum(bool(answer(r)) and strip_answer_leak(r.get("thinking") or "", answer(r))[1] for r in rows)
    seen, duplicates = set(), 0
    for r in rows:
        key = normalise(question(r))
        duplicates += key in seen
        seen.add(key)
    dedup = [s for s in steps if "dedup" in s.op and s.rows_in is not None and s.rows_out is not None]
    removed = sum(s.rows_in - s.rows_out for s in dedup)
    dedup_in = sum(s.rows_in for s in dedup)
    n = len(rows)
    return {
        "rows": [
            (
                "Copied seeds",
                "copied_seeds",
                share(_reason_total(steps, lambda x: x.endswith("copies_seed")), attempted),
                share(copies, n),
                "multi-hop questions that repeat one of their seed questions (mindgym_ops.substance)",
            ),
            *(
                (
                    label,
                    metric,
                    share(_reason_total(steps, lambda x, c=code: x.endswith(c)), attempted),
                    share(export_codes[code], n),
                    note,
                )
                for label, metric, code, note in SUBSTANCE_CHECKS
            ),
            (
                "Answer leaks",
                "leaks",
                share(_reason_total(steps, lambda x: "leak" in x or x == "multihop_validation"), attempted),
                share(leaks, n),
                "generation: multi-hop replies refused by validation (answer in the thinking or question, schema); "
                "export: thinking that still contains the full answer",
            ),
            (
                "Duplicates",
                "duplicates",
                share(removed, dedup_in),
                share(duplicates, n),
                "generation: rows removed by the dedup ops; export: repeated questions (normalised)",
            ),
        ],
        "attempted": attempted,
        "flagged_in_export": Counter(
            (r.get(META) or {}).get(FAILURE_KEY) for r in rows if (r.get(META) or {}).get(FAILURE_KEY)
        ).most_common(),
    }


# cost ---------------------------------------------------------------------------------------------


def cost(run: Run) -> Dict[str, Any]:
    ops = []
    for s in run.steps:
        if not s.counts:
            continue
        u = s.counts["usage"]
        tokens = u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
        ops.append(
            {
                "op": s.op,
                "prompt": u.get("prompt_tokens", 0),
                "completion": u.get("completion_tokens", 0),
                "tokens": tokens,
                "requests": s.counts["requests"],
                "cache_hits": s.counts["cache_hits"],
                "seconds": s.seconds,
                "per_kept": round(tokens / s.counts["kept"]) if s.counts["kept"] else None,
            }
        )
    total = {k: sum(o[k] for o in ops) for k in ("prompt", "completion", "tokens", "requests", "cache_hits")}
    accepted = len(run.rows)
    return {
        "ops": ops,
        "total": total,
        "accepted": accepted,
        "per_accepted": round(total["tokens"] / accepted) if accepted else None,
        "wall_seconds": round(run.wall_seconds, 1) if run.wall_seconds is not None else None,
        "executor": run.executor,
    }


# examples -----------------------------------------------------------------------------------------


def pick_examples(rows: List[Dict[str, Any]], n: int) -> List[Dict[str, Any]]:
    """Up to n rows with a question, one reasoning area (or principle) after another, in export order."""
    usable = [r for r in rows if question(r)]
    groups: Dict[str, List[Dict[str, Any]]] = {}
    for r in usable:
        groups.setdefault(r.get("reasoning_category") or r.get("relationship_category") or "", []).append(r)
    picked: List[Dict[str, Any]] = []
    while len(picked) < min(n, len(usable)):
        for group in groups.values():
            if group and len(picked) < n:
                picked.append(group.pop(0))
    return picked


def example(row: Dict[str, Any]) -> Dict[str, Any]:
    st = stats(row)
    return {
        "id": row.get("mindgym_row_id") or "",
        "question": question(row),
        "answer": answer(row),
        "thinking": row.get("thinking") or "",
        "sub_questions": seeds(row),
        "area": row.get("reasoning_category") or "",
        "principle": row.get("relationship_category") or "",
        "language": row.get("language") or "",
        "images": [p for p in row.get("images") or [] if isinstance(p, str)],
        "scores": [
            (k.replace("mindgym_", ""), "failed" if st[k] == FAILED else f"{st[k]:g}")
            for k in (DEPTH, BREADTH, SOLVE_RATE)
            if isinstance(st.get(k), (int, float))
        ],
        "failure": (row.get(META) or {}).get(FAILURE_KEY) or "",
        "attempts": attempts(row),
        "refused": refused_reply(row),
    }


def refused_reply(row: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """The last reply a mapper refused for this row (reason, message, reply), from its provenance; None if none."""
    for blob in (row.get(META) or {}).values():
        record = _json(blob)
        if isinstance(record, dict) and isinstance(record.get("refused"), dict):
            return record["refused"]
    return None


def attempts(row: Dict[str, Any]) -> List[Tuple[str, bool]]:
    """The self-consistency solver's attempts at the row and whether each was right ("" for one that never
    parsed); [] for a row the solver has not seen."""
    record = _json(stats(row).get(SOLVE_RECORD))
    if not isinstance(record, dict):
        return []
    return [(a or "", bool(v)) for a, v in zip(record.get("attempts") or [], record.get("verdicts") or [])]


def examples(rows: List[Dict[str, Any]], n: int) -> List[Dict[str, Any]]:
    return [example(r) for r in pick_examples(rows, n)]


def dropped_rows(run: Run) -> Optional[List[Dict[str, Any]]]:
    """The rows each op dropped, as Data-Juicer's tracer kept them, in recipe order: [{op, index, dropped (all the
    op dropped, where known), reasons (counted), rows}]; None when the run opened no tracer."""
    if run.traces is None:
        return None
    out, seen = [], set()
    for step in run.steps:
        if step.op in run.traces and step.op not in seen:  # one trace file per op name: shown at its first step
            seen.add(step.op)
            gone = step.rows_in - step.rows_out if None not in (step.rows_in, step.rows_out) else None
            reasons = sorted(((step.counts or {}).get("dropped") or {}).items(), key=lambda kv: -kv[1])
            rows = [example(r) for r in run.traces[step.op]]
            out.append({"op": step.op, "index": step.index, "dropped": gone, "reasons": reasons, "rows": rows})
    return out
