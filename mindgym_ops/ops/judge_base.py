"""One base for the LLM judge filters: call, parse, retry, stats; the keep decision reads stats only."""

from typing import Any, Dict, List, Optional

from data_juicer.ops.base_op import Filter
from data_juicer.utils.constant import Fields

from ..llm.base import Conversation
from .base import FAILURE_KEY, LLMOpMixin, columns_to_rows, row_nonce

ON_JUDGE_FAILURE = ("keep", "drop")
FAILED = -1.0  # a stat value that means "the judge gave no usable answer"


def content_with_images(row: Dict[str, Any], image_key: str, text: str):
    images = row.get(image_key) or []
    if not images:
        return text
    return [{"type": "image", "image": p} for p in images] + [{"type": "text", "text": text}]


class JudgeFilter(LLMOpMixin, Filter):
    """Subclasses set `primary_stat` and implement `judge_batch(rows) -> list[stats dict]` (which makes
    its batched model calls) and `in_band(stats) -> bool`."""

    _batched_op = True
    _accelerator = "cpu"
    primary_stat = "mindgym_score"

    def init_judge(self, on_judge_failure: str, **llm_kwargs) -> None:
        if on_judge_failure not in ON_JUDGE_FAILURE:
            raise ValueError(f"on_judge_failure must be one of {list(ON_JUDGE_FAILURE)}, got {on_judge_failure!r}")
        self.on_judge_failure = on_judge_failure
        self.init_llm(on_failure="drop", **llm_kwargs)

    def run(self, dataset, *, exporter=None, tracer=None, reduce=True):
        out = self.run_here(super().run, dataset, exporter=exporter, tracer=tracer, reduce=reduce)
        self.finish()
        return out

    def judge_batch(self, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def in_band(self, stats: Dict[str, Any]) -> bool:
        raise NotImplementedError

    def user(self, row: Dict[str, Any], text: str) -> Conversation:
        return [{"role": "user", "content": content_with_images(row, self.image_key, text)}]

    def failure_stats(self, message: str) -> Dict[str, Any]:
        """The stats of a row the judge could not (or need not) score; every key, stable types."""
        raise NotImplementedError

    def compute_stats_batched(self, samples, rank=None, context=False):
        rows = columns_to_rows(samples)
        todo = [i for i, r in enumerate(rows) if self.primary_stat not in (r[Fields.stats] or {})]
        for i in todo:
            rows[i]["_nonce"] = row_nonce(rows[i], i)
        # rows an earlier op flagged carry no usable question: no model call, decided by on_judge_failure
        upstream = {i: (rows[i].get(Fields.meta) or {}).get(FAILURE_KEY) for i in todo}
        judged = [i for i in todo if not upstream[i]]
        results = dict(zip(judged, self.judge_batch([rows[i] for i in judged])))
        for i in todo:
            stats = results.get(i) or self.failure_stats(f"flagged upstream: {upstream[i]}")
            merged = dict(samples[Fields.stats][i] or {})
            merged.update(stats)
            samples[Fields.stats][i] = merged
            failed = stats[self.primary_stat] == FAILED
            keep = self.decide(merged)
            if upstream[i]:
                reason = f"{self.primary_stat}_upstream_flagged"
            elif failed:
                reason = f"{self.primary_stat}_judge_failed"
            else:
                reason = None if keep else f"{self.primary_stat}_out_of_band"
            self.counters.record(keep, reason, flagged=failed)
        self.end_batch()
        return samples

    def decide(self, stats: Dict[str, Any]) -> bool:
        if stats.get(self.primary_stat) == FAILED:
            return self.on_judge_failure == "keep"
        return self.in_band(stats)

    def process_single(self, sample, rank=None):
        return self.decide(sample[Fields.stats])

    @staticmethod
    def bounds_ok(value: float, low: Optional[float], high: Optional[float]) -> bool:
        return (low is None or value >= low) and (high is None or value <= high)
