"""The base of the generation mappers: one declared request per row, `apply` writes what the reply holds."""

import copy
from typing import Any, Dict, List, Optional, Tuple

from data_juicer.ops.base_op import Mapper
from data_juicer.utils.constant import Fields
from pydantic import BaseModel

from ..llm import LLMError
from .base import LLMOpMixin, Request
from .rows import FAILURE_KEY, ROW_ID, columns_to_rows, row_id, rows_to_columns
from .tracing import RowTracing


def refused(res) -> Dict[str, str]:
    """A failed row's last reply and why it was refused (a check's or the parser's message): a flagged or traced
    row shows what the model wrote."""
    return {"reason": res.error.reason, "message": res.error.message[:300], "reply": res.text[:1000]}


class GenerationMapper(RowTracing, LLMOpMixin, Mapper):
    """A batched mapper that asks the model one structured question per row (or per unit of rows).

    Subclasses set `step`, `meta_key` and `output_defaults` (every field they write, with the
    stable-typed value a flagged row carries) and implement `prepare` and `apply`. Rows flagged by
    an earlier op pass through untouched. A failed row is dropped, or flagged: kept with
    `__dj__meta__.mindgym_failure = "<op>:<reason>"`, its provenance holding the last reply the model wrote
    (`refused`: reason, message, reply); either way the reason is counted (and, with
    Data-Juicer's tracer open, a dropped row is traced with its reason: see `tracing`)."""

    _batched_op = True
    _accelerator = "cpu"
    step = "generation"
    meta_key = "mindgym_generation"
    output_defaults: Dict[str, Any] = {}

    def prepare(self, row: Dict[str, Any]) -> Optional[Request]:
        """The row's request, or None when the row needs no model call. Raise LLMError(INPUT) for a row
        that cannot be used."""
        raise NotImplementedError

    def apply(self, row: Dict[str, Any], parsed: BaseModel, state: Dict[str, Any]) -> None:
        """Write the accepted reply into the row; `state` is what `check_reply` worked out for it."""
        raise NotImplementedError

    def provenance_extra(self, row: Dict[str, Any], parsed: Optional[BaseModel], state: Dict[str, Any]) -> Dict:
        """Fields a subclass adds to its provenance record for rows that called the model (`parsed`: the
        accepted reply, None when the row failed; `state`: what `check_reply` worked out for the last reply)."""
        return {}

    def units(self, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Rows to generate for (a subclass may merge rows, e.g. cross-row pairing)."""
        return rows

    def fail(self, row: Dict[str, Any], reason: str) -> bool:
        """Count a failure; returns whether the row stays (flagged) in the output."""
        keep = self.on_failure == "flag"
        self.mark_dropped(row, reason)  # a flagged row keeps it; a dropped one carries it into the trace
        self.counters.record(keep, reason, flagged=True)
        return keep

    def process_batched(self, samples, rank=None):
        self.checked.clear()
        rows = columns_to_rows(samples)
        for pos, row in enumerate(rows):
            row[ROW_ID] = row_id(row, pos)
            row[Fields.meta] = dict(row.get(Fields.meta) or {})
            row[Fields.meta].setdefault(FAILURE_KEY, "")
        rows = self.units(rows)
        before = [row.get(self.text_key) for row in rows] if self.tracing else []
        out_keys = list(dict.fromkeys(list(samples.keys()) + [ROW_ID, Fields.meta] + list(self.output_defaults)))
        keep: List[Optional[bool]] = [None] * len(rows)
        todo: List[Tuple[int, Request]] = []
        for i, row in enumerate(rows):
            for k, v in self.output_defaults.items():
                if row.get(k) is None:
                    row[k] = copy.deepcopy(v)
            if row[Fields.meta][FAILURE_KEY]:
                keep[i] = True  # flagged upstream: pass through
                continue
            try:
                self.checked_images(row)  # the one image policy: refused before anything reads the image
                req = self.prepare(row)
            except LLMError as e:
                keep[i] = self.fail(row, f"{self.step}_{e.kind.value}")
                continue
            if req is None:
                keep[i] = True
                self.counters.record(True, None)
            else:
                todo.append((i, req))
        replies = self.ask_rows(self.step, [rows[i] for i, _ in todo], [req for _, req in todo])
        for (i, req), (res,) in zip(todo, replies):
            row = rows[i]
            state = self.checked.get((self.step, row[ROW_ID]), {})
            extra = self.provenance_extra(row, res.parsed if res.ok else None, state)
            if not res.ok and res.text:  # the last reply the model wrote, and why it was refused
                extra = {**extra, "refused": refused(res)}
            row[Fields.meta][self.meta_key] = self.provenance(row[ROW_ID], req.templates, res, extra)
            if res.ok:
                self.apply(row, res.parsed, state)
                keep[i] = True
                self.counters.record(True, None)
            else:
                keep[i] = self.fail(row, self.reason_of(res, self.step))
        self.end_batch()
        if self.tracing:
            self.trace(rows, keep, before)
        return rows_to_columns([r for r, k in zip(rows, keep) if k], out_keys)
