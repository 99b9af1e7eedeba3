"""Data-Juicer's tracer for mappers that drop or add rows.

With `open_tracer: true` Data-Juicer wraps a batched mapper's `process` and pairs the n-th row in with the
n-th row out: a mapper that drops rows fails there (IndexError), and one that adds rows is traced against the
wrong rows. `RowTracing` keeps the tracer from Data-Juicer's wrapper and lets the op report its own rows: a
dropped row goes to `trace/sample_trace-<op>.jsonl` as a filter's would, its reason in
`__dj__meta__.mindgym_failure`; a kept row whose `text_key` changed is traced as Data-Juicer traces a
mapper's. The tracer's own limits (`op_list_to_trace`, `trace_num`) and Ray mode hold as before."""

from typing import Any, Dict, List, Optional

from data_juicer.utils.constant import Fields

from .rows import FAILURE_KEY


class RowTracing:
    """Mixin for a batched Mapper (listed before it): `self.tracing` says whether to collect; `trace` reports a
    batch."""

    _tracer = None  # Data-Juicer's tracer, during a traced run of this op

    def run(self, dataset, *, exporter=None, tracer=None):
        from data_juicer.core.tracer import should_trace_op

        self._tracer = tracer if tracer is not None and should_trace_op(tracer, self._name) else None
        try:
            return super().run(dataset, exporter=exporter, tracer=None)
        finally:
            self._tracer = None

    @property
    def tracing(self) -> bool:
        return self._tracer is not None

    def mark_dropped(self, row: Dict[str, Any], reason: str) -> None:
        """The reason a row left the op, where the trace (and a flagged row) carries it."""
        row[Fields.meta] = {**(row.get(Fields.meta) or {}), FAILURE_KEY: f"{self._name}:{reason}"}

    def trace(self, rows: List[Dict[str, Any]], keep: List[Optional[bool]], before: Optional[List[Any]] = None) -> None:
        """Hand a batch to the tracer: each row as the op left it, whether it stayed, and its `text_key` before the
        op (None: the op never changes it, so only the dropped rows are traced)."""
        from data_juicer.core.tracer import check_tracer_collect_complete, collect_for_filter, collect_for_mapper

        for i, (row, kept) in enumerate(zip(rows, keep)):
            if check_tracer_collect_complete(self._tracer, self._name):
                return
            text = row.get(self.text_key) if before is None else before[i]
            if not kept:
                collect_for_filter(self._tracer, self._name, row, False)
            elif row.get(self.text_key) != text:
                collect_for_mapper(self._tracer, self._name, {**row, self.text_key: text}, row, self.text_key)
