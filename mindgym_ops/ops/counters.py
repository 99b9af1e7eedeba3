"""Per-op counts (kept, dropped or flagged by reason, tokens) that survive worker processes.

Data-Juicer runs an op's batches in several processes; each process writes its own small JSON
file under `<work_dir>/mindgym_counts/`, and the op sums them when it ends, logs one line and
leaves the totals on disk for benchmarks and reports."""

import fcntl
import glob
import json
import os
import uuid
from collections import Counter
from typing import Any, Callable, Dict, Optional

from ..llm.types import Usage

COUNTS_DIR = "mindgym_counts"


def _is_tally(note: Any) -> bool:
    """A note that counts outcomes ({"passed": 3, "failed": 1}), as opposed to a record (a calibration)."""
    return isinstance(note, dict) and bool(note) and all(type(v) is int for v in note.values())


class OpCounters:
    def __init__(self, op_name: str, instance_id: str, work_dir: Optional[str]):
        self.op_name = op_name
        self.instance_id = instance_id
        self.dir = os.path.join(work_dir or os.path.join(os.getcwd(), ".mindgym"), COUNTS_DIR)
        self._token_pid: Optional[int] = None
        self.reset()

    def reset(self) -> None:
        self.rows_in = 0
        self.kept = 0
        self.dropped: Counter = Counter()
        self.flagged: Counter = Counter()
        self.usage = Usage()
        self.requests = 0
        self.cache_hits = 0
        self.notes: Dict = {}  # what an op learned about the run itself (the judge's calibration)

    def record(self, kept: bool, reason: Optional[str], flagged: bool = False) -> None:
        self.rows_in += 1
        if kept:
            self.kept += 1
            if reason and flagged:
                self.flagged[reason] += 1
        else:
            self.dropped[reason or "unknown"] += 1

    def to_dict(self) -> Dict:
        return {
            "op": self.op_name,
            "rows_in": self.rows_in,
            "kept": self.kept,
            "dropped": dict(self.dropped),
            "flagged": dict(self.flagged),
            "usage": self.usage.to_dict(),
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "notes": self.notes,
        }

    def flush(self) -> None:
        """Write this process's totals (atomically: a crash leaves the previous file whole)."""
        # one file per copy of the op: datasets may unpickle several copies into one worker process
        if self._token_pid != os.getpid():
            self._token, self._token_pid = f"{os.getpid()}-{uuid.uuid4().hex[:8]}", os.getpid()
        os.makedirs(self.dir, exist_ok=True)
        path = os.path.join(self.dir, f"{self.op_name}.{self.instance_id}.{self._token}.json")
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.to_dict(), f)
        os.replace(tmp, path)

    def once(self, name: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per run for this op instance, whatever the number of worker processes: the first
        worker computes under a lock in the counts folder, the others wait and read its JSON result."""
        path = os.path.join(self.dir, f"{self.op_name}.{self.instance_id}.{name}")
        os.makedirs(self.dir, exist_ok=True)
        with open(path + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(path):
                with open(path) as f:
                    return json.load(f)
            value = compute()
            with open(path + ".tmp", "w") as f:
                json.dump(value, f)
            os.replace(path + ".tmp", path)
            return value

    def totals(self) -> Dict:
        """Sum of every process's file for this op instance."""
        total = {
            "op": self.op_name,
            "rows_in": 0,
            "kept": 0,
            "dropped": Counter(),
            "flagged": Counter(),
            "usage": Counter(),
            "requests": 0,
            "cache_hits": 0,
            "notes": {},
        }
        for path in glob.glob(os.path.join(self.dir, f"{self.op_name}.{self.instance_id}.*.json")):
            with open(path) as f:
                d = json.load(f)
            for k in ("rows_in", "kept", "requests", "cache_hits"):
                total[k] += d[k]
            for k in ("dropped", "flagged", "usage"):
                total[k].update(d[k])
            for name, note in (d.get("notes") or {}).items():
                if _is_tally(note) and _is_tally(total["notes"].get(name)):  # counts: summed over processes
                    before = total["notes"][name]
                    note = {k: before.get(k, 0) + note.get(k, 0) for k in {**before, **note}}
                total["notes"][name] = note
        for k in ("dropped", "flagged", "usage"):
            total[k] = dict(total[k])
        return total


def pipeline_tokens(counts_dir: str) -> int:
    """Tokens spent so far by every MindGYM op of this run (all files in the counts folder)."""
    total = 0
    for path in glob.glob(os.path.join(counts_dir, "*.json")):
        with open(path) as f:
            u = json.load(f)["usage"]
        total += u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
    return total


def summary_line(t: Dict) -> str:
    dropped = ", ".join(f"{k}: {v}" for k, v in sorted(t["dropped"].items())) or "none"
    flagged = ", ".join(f"{k}: {v}" for k, v in sorted(t["flagged"].items()))
    u = t["usage"]
    tokens = u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)
    per = f", {tokens / t['kept']:.0f} tokens per kept row" if t["kept"] else ""
    line = f"{t['op']}: {t['rows_in']} rows in, kept {t['kept']}, dropped {sum(t['dropped'].values())} " f"({dropped})"
    if flagged:
        line += f", flagged ({flagged})"
    for name, note in sorted((t.get("notes") or {}).items()):  # what the op counted about its rows (verified_hard)
        if _is_tally(note):
            line += f"; {name}: " + ", ".join(f"{k} {v}" for k, v in sorted(note.items()))
    return (
        line + f"; {t['requests']} requests, {t['cache_hits']} from cache; tokens prompt "
        f"{u.get('prompt_tokens', 0)} + completion {u.get('completion_tokens', 0)}{per}"
    )
