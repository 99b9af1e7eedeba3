"""What every MindGYM LLM op shares: model-layer setup, templates, row ids, failure bookkeeping.

Ops are thin: they build conversations, call `self.llm.chat_batch` once per step for the whole
batch, and hand each result to `self.fail` or write the fields. Nothing here branches on backend."""

import hashlib
import json
import uuid
from typing import Any, Dict, Iterable, List, Optional

from loguru import logger

from ..llm import LLM, ChatResult
from ..prompts import Template, load_templates
from ..schemas import LANGUAGES, ON_FAILURE, check_choice
from .counters import OpCounters, summary_line

ROW_ID = "mindgym_row_id"
FAILURE_KEY = "mindgym_failure"  # meta key: "" on good rows, "<op>:<reason>" on flagged rows


def columns_to_rows(samples: Dict[str, List[Any]]) -> List[Dict[str, Any]]:
    keys = list(samples.keys())
    n = len(samples[keys[0]]) if keys else 0
    return [{k: samples[k][i] for k in keys} for i in range(n)]


def rows_to_columns(rows: List[Dict[str, Any]], keys: Iterable[str]) -> Dict[str, List[Any]]:
    return {k: [r.get(k) for r in rows] for k in keys}


def row_nonce(row: Dict[str, Any], position: int) -> str:
    """A stable id for a row: its `mindgym_row_id`, else a content hash plus its batch position."""
    rid = row.get(ROW_ID)
    if rid:
        return str(rid)
    blob = json.dumps({k: v for k, v in row.items() if not k.startswith("__dj__")}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12] + f"-{position}"


class LLMOpMixin:
    """Mixed into a Data-Juicer Mapper or Filter. Call `init_llm` from `__init__`."""

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
        self.llm = LLM(backend=backend, model=model, model_params=model_params, sampling_params=sampling_params,
                       cache_dir=cache_dir, try_num=try_num)
        self.templates: Dict[str, Template] = load_templates(language, templates, prompt_templates)
        if self.llm.backend_name in ("vllm", "hf"):
            # one in-process model per worker would fight for the GPU; outside Ray keep one process
            self.num_proc = 1
        self._instance_id = uuid.uuid4().hex[:8]
        self.counters = OpCounters(self._name, self._instance_id, getattr(self, "work_dir", None))

    # provenance ---------------------------------------------------------------------------

    def provenance(self, template_names: Iterable[str], result_usage: Dict[str, int], row_id: str,
                   attempts: int, extra: Optional[Dict] = None) -> str:
        record = {**self.llm.describe(), "templates": [self.templates[n].provenance() for n in template_names],
                  "row_id": row_id, "usage": result_usage, "attempts": attempts, "language": self.language}
        record.update(extra or {})
        return json.dumps(record, ensure_ascii=False)

    # bookkeeping --------------------------------------------------------------------------

    def account(self, results: Iterable[ChatResult]) -> None:
        for r in results:
            self.counters.usage.add(r.usage)
            self.counters.requests += r.attempts - (1 if r.cached else 0)
            self.counters.cache_hits += 1 if r.cached else 0

    def end_batch(self) -> None:
        self.counters.flush()

    def log_summary(self) -> Dict:
        totals = self.counters.totals()
        logger.info(summary_line(totals))
        return totals

    @staticmethod
    def reason_of(result: ChatResult, step: str) -> str:
        kind = result.error.kind.value if result.error is not None else "unknown"
        return f"{step}_{kind}"
