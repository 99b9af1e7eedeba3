"""What every MindGYM LLM op shares: model-layer setup, templates, row ids, failure bookkeeping.

Ops are thin: they build conversations, call `self.llm.chat_batch` once per step for the whole
batch, and either write the fields (`apply`) or record a counted failure. Nothing here branches on backend."""

import copy
import hashlib
import json
import os
import sys
import uuid
from typing import Any, Dict, Iterable, List, Optional, Tuple, Type

from data_juicer.ops.base_op import Mapper
from data_juicer.utils.constant import Fields
from loguru import logger
from pydantic import BaseModel

from ..llm import LLM, ChatResult, ErrorKind, LLMError
from ..llm.base import Conversation
from ..prompts import Template, load_templates
from ..schemas import LANGUAGES, ON_FAILURE, check_choice
from .counters import OpCounters, pipeline_tokens, summary_line

ROW_ID = "mindgym_row_id"
FAILURE_KEY = "mindgym_failure"  # meta key: "" on good rows, "<op>:<reason>" on flagged rows


def columns_to_rows(samples: Dict[str, List[Any]]) -> List[Dict[str, Any]]:
    keys = list(samples.keys())
    n = len(samples[keys[0]]) if keys else 0
    return [{k: samples[k][i] for k in keys} for i in range(n)]


def rows_to_columns(rows: List[Dict[str, Any]], keys: Iterable[str]) -> Dict[str, List[Any]]:
    return {k: [r.get(k) for r in rows] for k in keys}


def numbered_row_id(index: int) -> str:
    """The id of the index-th input row; `row_number` reads the index back (round-robin areas)."""
    return f"r{index}"


def row_number(rid: str) -> Optional[int]:
    """The index in a `numbered_row_id`, or None for any other id (a content hash)."""
    return int(rid[1:]) if rid.startswith("r") and rid[1:].isdigit() else None


def row_nonce(row: Dict[str, Any], position: int) -> str:
    """A stable id for a row: its `mindgym_row_id`, else a content hash plus its batch position."""
    rid = row.get(ROW_ID)
    if rid:
        return str(rid)
    blob = json.dumps({k: v for k, v in row.items() if not k.startswith("__dj__")}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12] + f"-{position}"


def ray_running() -> bool:
    """Whether this process is part of a Ray cluster (a Ray worker, or the Ray executor's driver)."""
    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())


# rows per batch when the recipe does not set batch_size: one for llama.cpp, which decodes one row at a
# time anyway, so Data-Juicer's progress bar (and its time-left estimate) moves after every row; large
# for servers and vLLM, so requests overlap
DEFAULT_BATCH_SIZE = {"local": 1, "hf": 16, "api": 256, "vllm": 1024}


class LLMOpMixin:
    """Mixed into a Data-Juicer Mapper or Filter. Call `init_llm` from `__init__`."""

    def __init__(self, *args, **kwargs):
        self._recipe_batch_size = kwargs.get("batch_size")
        self._recipe_num_proc = kwargs.get("num_proc")
        super().__init__(*args, **kwargs)

    def init_llm(
        self,
        *,
        backend: Optional[str],
        model: Optional[str],
        model_params: Optional[Dict],
        sampling_params: Optional[Dict],
        try_num: int,
        cache_dir: Optional[str],
        language: str,
        on_failure: str,
        prompt_templates: Optional[Dict[str, str]],
        templates: Dict[str, Iterable[str]],
    ) -> None:
        check_choice("language", language, LANGUAGES)
        check_choice("on_failure", on_failure, ON_FAILURE)
        self.language = language
        self.on_failure = on_failure
        self.llm = LLM(
            backend=backend,
            model=model,
            model_params=model_params,
            sampling_params=sampling_params,
            cache_dir=cache_dir,
            try_num=try_num,
        )
        self.templates: Dict[str, Template] = load_templates(language, templates, prompt_templates)
        if self._recipe_batch_size is None:
            self.batch_size = DEFAULT_BATCH_SIZE[self.llm.backend_name]
        if self.llm.backend_name in ("vllm", "hf") and self._recipe_num_proc is None:
            # one in-process model per worker would fight for the GPU: one process unless the recipe
            # asks for more (on Ray: `num_proc` actors, each with `num_gpus`)
            self.num_proc = 1
        self._instance_id = uuid.uuid4().hex[:8]
        self.counters = OpCounters(self._name, self._instance_id, getattr(self, "work_dir", None))

    def runtime_np(self):
        """Inside this op's own run, one process means this process: `datasets` runs `map(num_proc=1)` in a
        fresh one-worker pool, so every op would load its own copy of the model; `None` keeps the batches
        here, beside the engine the other ops already loaded."""
        n = super().runtime_np()
        return None if n == 1 and getattr(self, "_in_run", False) else n

    def run_here(self, run, *args, **kwargs):
        self._in_run = True
        try:
            return run(*args, **kwargs)
        finally:
            self._in_run = False

    def checked_images(self, row: Dict[str, Any]) -> List[str]:
        """The row's image paths, refusing any outside `image_root` (default: the working directory)
        unless `allow_external_images`; problems are typed IMAGE errors (a counted per-row reason)."""
        paths = row.get(self.image_key) or []
        root = os.path.realpath(getattr(self, "image_root", None) or os.getcwd())
        for p in paths:
            if not isinstance(p, str) or not p:
                raise LLMError(ErrorKind.IMAGE, f"image path must be a non-empty string, got {p!r}")
            real = os.path.realpath(p)
            if not getattr(self, "allow_external_images", False) and os.path.commonpath([real, root]) != root:
                raise LLMError(ErrorKind.IMAGE, f"image outside image_root {root}: {p}")
        return list(paths)

    # provenance ---------------------------------------------------------------------------

    def provenance(
        self,
        template_names: Iterable[str],
        result_usage: Dict[str, int],
        row_id: str,
        attempts: int,
        extra: Optional[Dict] = None,
    ) -> str:
        record = {
            **self.llm.describe(),
            "templates": [self.templates[n].provenance() for n in template_names],
            "row_id": row_id,
            "usage": result_usage,
            "attempts": attempts,
            "language": self.language,
        }
        record.update(extra or {})
        return json.dumps(record, ensure_ascii=False)

    # bookkeeping --------------------------------------------------------------------------

    def account(self, results: Iterable[ChatResult]) -> None:
        for r in results:
            self.counters.usage.add(r.usage)
            self.counters.requests += r.sent
            self.counters.cache_hits += r.attempts - r.sent

    def end_batch(self) -> None:
        self.counters.flush()
        if ray_running():  # Data-Juicer's Ray executor never calls run(): report the running totals here
            logger.info(summary_line(self.counters.totals()) + " (so far, Ray)")

    def finish(self) -> Dict:
        """The op's run has ended: log its counts and let go of its engine (the last op out releases it)."""
        totals = self.log_summary()
        self.llm.close()
        return totals

    def log_summary(self) -> Dict:
        totals = self.counters.totals()
        logger.info(summary_line(totals))
        spent = pipeline_tokens(self.counters.dir)
        if totals["kept"]:
            logger.info(
                f"{self._name}: pipeline so far {spent} tokens over {totals['kept']} surviving rows = "
                f"{spent / totals['kept']:.0f} tokens per accepted record"
            )
        return totals

    @staticmethod
    def reason_of(result: ChatResult, step: str) -> str:
        return f"{step}_{result.error.reason if result.error is not None else 'unknown'}"


class GenerationMapper(LLMOpMixin, Mapper):
    """A batched mapper that asks the model one structured question per row (or per unit of rows).

    Subclasses set `step`, `meta_key` and `output_defaults` (every field they write, with the
    stable-typed value a flagged row carries) and implement `prepare` and `apply`. Rows flagged by
    an earlier op pass through untouched. One `chat_batch` call per schema per batch."""

    _batched_op = True
    _accelerator = "cpu"
    step = "generation"
    meta_key = "mindgym_generation"
    output_defaults: Dict[str, Any] = {}

    def prepare(self, row: Dict[str, Any]) -> Optional[Tuple[Conversation, Type[BaseModel], List[str]]]:
        """Return (conversation, schema, template names), or None when the row needs no model call.
        Raise LLMError(INPUT) for a row that cannot be used."""
        raise NotImplementedError

    def apply(self, row: Dict[str, Any], parsed: BaseModel) -> None:
        raise NotImplementedError

    def check_reply(self, row: Dict[str, Any], parsed: BaseModel) -> Optional[Tuple[str, str]]:
        """A substance check of a parsed reply: (code, message) to refuse it (retried with the message
        fed back when the op has a `retry_feedback` template; counted as `<step>_<code>`), None to accept."""
        return None

    def feedback(self, reason: str) -> str:
        return self.templates["retry_feedback"].render(reason=reason)

    def provenance_extra(self, row: Dict[str, Any]) -> Dict[str, Any]:
        """Fields a subclass adds to its provenance record for rows that called the model."""
        return {}

    def units(self, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Rows to generate for (a subclass may merge rows, e.g. cross-row pairing)."""
        return rows

    def run(self, dataset, *, exporter=None, tracer=None):
        out = self.run_here(super().run, dataset, exporter=exporter, tracer=tracer)
        self.finish()
        return out

    def system_messages(self) -> Conversation:
        if getattr(self, "use_thinking", False):
            if getattr(self, "_protocol_text", None) is None:  # no variables: render once per op
                self._protocol_text = self.templates["thinking_protocol"].render()
            return [{"role": "system", "content": self._protocol_text}]
        return []

    def _fail(self, row: Dict[str, Any], reason: str) -> bool:
        """Record a failure; returns whether the row stays (flagged) in the output."""
        keep = self.on_failure == "flag"
        if keep:
            row[Fields.meta][FAILURE_KEY] = f"{self._name}:{reason}"
        self.counters.record(keep, reason, flagged=True)
        return keep

    def process_batched(self, samples, rank=None):
        rows = columns_to_rows(samples)
        for pos, row in enumerate(rows):
            row[ROW_ID] = row_nonce(row, pos)
            row[Fields.meta] = dict(row.get(Fields.meta) or {})
            row[Fields.meta].setdefault(FAILURE_KEY, "")
        rows = self.units(rows)
        out_keys = list(dict.fromkeys(list(samples.keys()) + [ROW_ID, Fields.meta] + list(self.output_defaults)))
        keep: List[Optional[bool]] = [None] * len(rows)
        calls: Dict[Any, List[Tuple[int, Conversation, List[str]]]] = {}
        for i, row in enumerate(rows):
            for k, v in self.output_defaults.items():
                if row.get(k) is None:
                    row[k] = copy.deepcopy(v)
            if row[Fields.meta][FAILURE_KEY]:
                keep[i] = True  # flagged upstream: pass through
                continue
            try:
                prepared = self.prepare(row)
            except LLMError as e:
                keep[i] = self._fail(row, f"{self.step}_{e.kind.value}")
                continue
            if prepared is None:
                keep[i] = True
                self.counters.record(True, None)
                continue
            conv, schema, names = prepared
            calls.setdefault(schema, []).append((i, conv, names))
        for schema, items in calls.items():
            results = self.llm.chat_batch(
                [c for _, c, _ in items],
                schema=schema,
                keys=[rows[i][ROW_ID] for i, _, _ in items],
                check=lambda j, parsed, _items=items: self.check_reply(rows[_items[j][0]], parsed),
                feedback=self.feedback if "retry_feedback" in self.templates else None,
            )
            self.account(results)
            for (i, _, names), res in zip(items, results):
                row = rows[i]
                row[Fields.meta][self.meta_key] = self.provenance(
                    names, res.usage.to_dict(), row[ROW_ID], res.attempts, self.provenance_extra(row)
                )
                if res.ok:
                    self.apply(row, res.parsed)
                    keep[i] = True
                    self.counters.record(True, None)
                else:
                    keep[i] = self._fail(row, self.reason_of(res, self.step))
        self.end_batch()
        return rows_to_columns([r for r, k in zip(rows, keep) if k], out_keys)
