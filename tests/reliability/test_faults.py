"""The full text recipe under a 30% mix of server faults: nothing lost, nothing silent, retries bounded."""

from pathlib import Path

import yaml
from helpers import api_run_env, read_jsonl, recipe_copy, run_dj
from mindgym_script import MindGymScript

from mindgym_ops.ops.counters import COUNTS_DIR, OpCounters
from mindgym_ops.testing.server import FakeOpenAIServer

FAULTS = {
    "429": 0.03,
    "500": 0.03,
    "503": 0.03,
    "hang": 0.03,
    "drop": 0.03,
    "empty_choices": 0.03,
    "malformed_json": 0.03,
    "truncate": 0.03,
    "wrong_types": 0.03,
    "out_of_range": 0.03,
}
ROWS = 64


def fault_recipe(tmp_path):
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=ROWS, np=2)
    cfg = yaml.safe_load(recipe.read_text())
    for step in cfg["process"]:
        for name, args in step.items():
            if name.startswith("mindgym_"):
                args.update(
                    try_num=5,
                    model_params={"timeout": 1.0, "backoff_base": 0.05, "max_retries": 4, "max_concurrency": 32},
                )
            if name == "mindgym_self_consistency_filter":
                args.update(min_solve_rate=0.0, max_solve_rate=1.0)  # keep every decided row: count failures only
            if name == "mindgym_depth_breadth_filter":
                args.update(min_depth=1, min_breadth=1)
    recipe.write_text(yaml.safe_dump(cfg))
    return recipe


def op_totals(work_root):
    """Each MindGYM op's counts over all its worker processes, as the op itself sums them (`OpCounters`)."""
    (counts,) = Path(work_root).rglob(COUNTS_DIR)  # one run, one job folder
    ops = {path.name.split(".")[0] for path in counts.glob("*.json")}
    return {op: OpCounters(op, "*", str(counts.parent)).totals() for op in ops}


def test_thirty_percent_faults_every_row_accounted_for(tmp_path):
    with FakeOpenAIServer(
        MindGymScript(solve_every=2), faults=FAULTS, seed=7, hang_seconds=3, keep_bodies=False
    ) as srv:
        done = run_dj(fault_recipe(tmp_path), api_run_env(srv), timeout=900)
        assert done.returncode == 0, done.stderr[-4000:]
        rows = read_jsonl(tmp_path / "out" / "result.jsonl")
        totals = op_totals(tmp_path / "out")
        order = [
            "mindgym_background_mapper",
            "mindgym_seed_qa_mapper",
            "mindgym_multihop_qa_mapper",
            "mindgym_depth_breadth_filter",
            "mindgym_self_consistency_filter",
        ]
        assert set(order) <= set(totals)
        assert totals[order[0]]["rows_in"] == ROWS
        for op in order:  # inside each op: every row in is kept or dropped with a reason
            t = totals[op]
            assert t["rows_in"] == t["kept"] + sum(t["dropped"].values()), (op, t)
        for a, b in zip(order[:2], order[1:3]):  # between mappers nothing vanishes
            assert totals[b]["rows_in"] == totals[a]["kept"]
        # the exact deduplicator sits between the multi-hop op and the judge; the rest is accounted
        assert totals[order[4]]["rows_in"] == totals[order[3]]["kept"]
        assert len(rows) == totals[order[4]]["kept"]
        assert len(rows) >= 0.95 * ROWS, totals
        stats = srv.stats
        assert sum(stats.faults.values()) > 0.2 * stats.requests  # the faults really happened
        # bounded: at most 5 parse attempts x 5 transport tries per call; in practice far fewer
        calls = ROWS * 9
        assert stats.requests <= calls * 25 and stats.requests < 2.5 * calls, (stats.requests, calls)
        assert stats.resent_completed() == 0  # a completed request is never sent again
