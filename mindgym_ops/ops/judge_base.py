"""The base of the LLM judge filters: declared steps of requests, `score` turns the replies into stats, and
the keep decision reads stats only."""

from typing import Any, Dict, List, Optional, Tuple

from data_juicer.ops.base_op import Filter
from data_juicer.utils.constant import Fields

from ..llm import ChatResult, LLMError
from .base import LLMOpMixin, Request
from .rows import FAILURE_KEY, ROW_ID, columns_to_rows, row_id

FAILED = -1.0  # a stat value that means "the judge gave no usable answer"
# the old name of `on_failure` for filters, and what its values mean now
ON_JUDGE_FAILURE = {"keep": "flag", "drop": "drop"}
Replies = Dict[str, List[ChatResult]]  # step -> the results of the row's request at that step


def failure_policy(on_failure: str, on_judge_failure: Optional[str]) -> str:
    """`on_judge_failure: keep | drop` (the old name) still works: keep means flag. `on_failure` defaults to
    drop, so only a `flag` beside it can contradict the old name."""
    if on_judge_failure is None:
        return on_failure
    if on_judge_failure not in ON_JUDGE_FAILURE:
        raise ValueError(f"on_judge_failure must be one of {list(ON_JUDGE_FAILURE)}, got {on_judge_failure!r}")
    policy = ON_JUDGE_FAILURE[on_judge_failure]
    if on_failure == "flag" and policy != "flag":
        raise ValueError(
            f"on_failure: flag and on_judge_failure: {on_judge_failure} contradict each other; set only on_failure"
        )
    return policy


class JudgeFilter(LLMOpMixin, Filter):
    """Subclasses name their `steps`, declare each step's request per row (`request`), turn a row's
    replies into stats (`score`, the `primary_stat` FAILED when the judge gave no usable answer) and
    decide on stats (`in_band`). A row the judge could not score is dropped, or flagged: kept, with
    the error in its stats record; either way the reason is counted. Rows a mapper flagged carry no
    usable question, and rows with an image outside `image_root` are refused (`refused`): no model call, the
    failure policy decides them (`<stat>_upstream_flagged`, `<stat>_image`)."""

    _batched_op = True
    _accelerator = "cpu"
    primary_stat = "mindgym_score"
    steps: Tuple[str, ...] = ("judge",)

    def request(self, step: str, row: Dict[str, Any], replies: Replies) -> Optional[Request]:
        """The row's request at `step` (the replies of earlier steps at hand), or None to skip the step."""
        raise NotImplementedError

    def score(self, row: Dict[str, Any], replies: Replies) -> Dict[str, Any]:
        raise NotImplementedError

    def in_band(self, stats: Dict[str, Any]) -> bool:
        raise NotImplementedError

    def out_of_band(self, stats: Dict[str, Any]) -> str:
        """Why a scored row is outside the band, as the end of its counted reason."""
        return "out_of_band"

    def failure_stats(self, message: str) -> Dict[str, Any]:
        """The stats of a row the judge could not (or need not) score; every key, stable types."""
        raise NotImplementedError

    def question(self, row: Dict[str, Any]) -> Tuple[str, str]:
        """The (question, reference answer) a judge reads: the multi-hop pair, else query/response."""
        return (
            row.get("multihop_question") or row.get(self.query_key) or "",
            row.get("multihop_answer") or row.get(self.response_key) or "",
        )

    def judge_rows(self, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Every step as one batched round of requests, then the stats of each row."""
        replies: List[Replies] = [{} for _ in rows]
        for step in self.steps:
            todo = [(i, self.request(step, row, replies[i])) for i, row in enumerate(rows)]
            todo = [(i, req) for i, req in todo if req is not None]
            for (i, _), results in zip(todo, self.ask_rows(step, [rows[i] for i, _ in todo], [r for _, r in todo])):
                replies[i][step] = results
        return [self.score(row, r) for row, r in zip(rows, replies)]

    def refused(self, row: Dict[str, Any]) -> Optional[Tuple[str, str]]:
        """Why a row is not judged at all, as (reason, message): flagged by a mapper upstream, or an image outside
        `image_root` (the one image policy: refused before the judge reads it); None to judge it."""
        upstream = (row.get(Fields.meta) or {}).get(FAILURE_KEY)
        if upstream:
            return "upstream_flagged", f"flagged upstream: {upstream}"
        try:
            self.checked_images(row)
        except LLMError as e:
            return "image", e.message
        return None

    def compute_stats_batched(self, samples, rank=None, context=False):
        self.checked.clear()
        rows = columns_to_rows(samples)
        todo = [i for i, r in enumerate(rows) if self.primary_stat not in (r[Fields.stats] or {})]
        for i in todo:
            rows[i][ROW_ID] = row_id(rows[i], i)
        refused = {i: self.refused(rows[i]) for i in todo}
        judged = [i for i in todo if not refused[i]]
        results = dict(zip(judged, self.judge_rows([rows[i] for i in judged])))
        for i in todo:
            stats = results.get(i) or self.failure_stats(refused[i][1])
            samples[Fields.stats][i] = {**(samples[Fields.stats][i] or {}), **stats}
            failed = stats[self.primary_stat] == FAILED
            keep = self.decide(samples[Fields.stats][i])
            if refused[i]:
                reason = f"{self.primary_stat}_{refused[i][0]}"
            elif failed:
                reason = f"{self.primary_stat}_judge_failed"
            else:
                reason = None if keep else f"{self.primary_stat}_{self.out_of_band(samples[Fields.stats][i])}"
            self.counters.record(keep, reason, flagged=failed)
        self.end_batch()
        return samples

    def decide(self, stats: Dict[str, Any]) -> bool:
        if stats.get(self.primary_stat) == FAILED:
            return self.on_failure == "flag"
        return self.in_band(stats)

    def process_single(self, sample, rank=None):
        return self.decide(sample[Fields.stats])

    @staticmethod
    def bounds_ok(value: float, low: Optional[float], high: Optional[float]) -> bool:
        return (low is None or value >= low) and (high is None or value <= high)
