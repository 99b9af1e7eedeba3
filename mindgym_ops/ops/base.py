"""The one contract every MindGYM LLM op follows.

An op declares its model requests per row (`Request`: a conversation, a reply schema, the templates it
renders). The base sends them (`ask`: one `chat_batch` per schema and sampling), counts requests and
tokens, writes provenance and applies the failure policy, `on_failure: drop | flag`, the same for mappers
(`GenerationMapper`) and filters (`JudgeFilter`). Nothing here branches on backend."""

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from loguru import logger

from ..llm import LLM, ChatResult
from ..llm.base import Conversation
from ..prompts import Template, load_templates
from ..schemas import LANGUAGES, ON_FAILURE, check_choice
from .counters import OpCounters, pipeline_tokens, summary_line
from .images import ImagePolicy
from .rows import ROW_ID, ray_running

# rows per batch when the recipe does not set batch_size: one for llama.cpp, which decodes one row at a
# time anyway, so Data-Juicer's progress bar (and its time-left estimate) moves after every row; large
# for servers and vLLM, so requests overlap
DEFAULT_BATCH_SIZE = {"local": 1, "hf": 16, "api": 256, "vllm": 1024}


@dataclass
class Request:
    """One model request an op makes for a row: `n` identical conversations (k solver attempts) answered
    under `schema`; `tag` tells a row's requests of different steps apart in the request cache, and
    `numbered` adds each conversation's number to its key (always for `n > 1`)."""

    conversation: Conversation
    schema: Any
    templates: Sequence[str] = ()
    sampling: Optional[Dict[str, Any]] = None
    n: int = 1
    tag: str = ""
    numbered: bool = False

    def key(self, rid: str, j: int) -> str:
        return rid + self.tag + (str(j) if self.numbered or self.n > 1 else "")


FEEDBACK = ("reason", "structured")  # the variables of the retry_feedback template


@dataclass
class Checked:
    """What `check_reply` made of one parsed reply: `failure`, a (code, message) pair, refuses it (retried, the
    message fed back, then counted as `<step>_<code>`); `state` is what the check worked out (usable seeds, how the
    answer is known), handed to `apply` and `provenance_extra` with the accepted reply, so nothing is worked out
    twice."""

    failure: Optional[Tuple[str, str]] = None
    state: Dict[str, Any] = field(default_factory=dict)


class LLMOpMixin(ImagePolicy):
    """Mixed into a Data-Juicer Mapper or Filter. Call `init_llm` from `__init__`. Mappers and filters share one hook
    vocabulary: `check_reply(step, row, parsed) -> Checked` looks at each parsed reply of a row at a step."""

    use_thinking: bool = False  # send the thinking protocol as the system prompt
    _in_run: bool = False
    _protocol_text: str = ""
    structured_reply = True  # the retry feedback asks for JSON again (False: plain text)

    def __init__(self, *args, **kwargs):
        self._recipe_batch_size = kwargs.get("batch_size")
        self._recipe_num_proc = kwargs.get("num_proc")
        super().__init__(*args, **kwargs)

    def init_llm(
        self,
        params: Dict[str, Any],
        *,
        on_failure: str,
        templates: Dict[str, Iterable[str]],
        thinking_protocol: bool = False,
        sampling_defaults: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Set up the model layer from the op's own `__init__` arguments (`locals()`): every LLM op declares
        `backend`, `model`, `model_params`, `sampling_params`, `try_num`, `cache_dir`, `language`,
        `prompt_templates`, `image_root` and `allow_external_images` explicitly, as Data-Juicer's preflight needs, and
        they all mean the same here."""
        language = params["language"]
        check_choice("language", language, LANGUAGES)
        check_choice("on_failure", on_failure, ON_FAILURE)
        self.language, self.on_failure = language, on_failure
        self.image_root, self.allow_external_images = params.get("image_root"), params.get("allow_external_images")
        self.llm = LLM(
            backend=params["backend"],
            model=params["model"],
            model_params=params["model_params"],
            sampling_params={**(sampling_defaults or {}), **(params["sampling_params"] or {})},
            cache_dir=params["cache_dir"],
            try_num=params["try_num"],
        )
        prompt_templates = params["prompt_templates"]
        self.templates: Dict[str, Template] = load_templates(language, templates, prompt_templates)
        self.use_thinking = thinking_protocol
        if thinking_protocol:  # no variables: rendered once per op
            self._protocol_text = self.templates["thinking_protocol"].render()
        if self._recipe_batch_size is None:
            self.batch_size = DEFAULT_BATCH_SIZE[self.llm.backend_name]
        if self.llm.backend_name in ("vllm", "hf") and self._recipe_num_proc is None:
            # one in-process model per worker would fight for the GPU: one process unless the recipe
            # asks for more (on Ray: `num_proc` actors, each with `num_gpus`)
            self.num_proc = 1
        self.checked: Dict[Tuple[str, str], Dict[str, Any]] = {}  # (step, row id) -> what check_reply worked out
        self._instance_id = uuid.uuid4().hex[:8]
        self.counters = OpCounters(self._name, self._instance_id, self.work_dir)

    # running --------------------------------------------------------------------------------

    def runtime_np(self):
        """Inside this op's own run, one process means this process: `datasets` runs `map(num_proc=1)` in a
        fresh one-worker pool, so every op would load its own copy of the model; `None` keeps the batches
        here, beside the engine the other ops already loaded."""
        n = super().runtime_np()
        return None if n == 1 and self._in_run else n

    def run(self, dataset, **kwargs):
        self._in_run = True
        try:
            out = super().run(dataset, **kwargs)
        finally:
            self._in_run = False
        self.finish()
        return out

    def finish(self) -> Dict:
        """The op's run has ended: log its counts and let go of its engine (the last op out releases it)."""
        totals = self.log_summary()
        self.llm.close()
        return totals

    # conversations --------------------------------------------------------------------------

    def system_messages(self) -> Conversation:
        return [{"role": "system", "content": self._protocol_text}] if self.use_thinking else []

    def user(self, text: str, images: Sequence[str] = ()) -> Conversation:
        """One user turn: the images first, then the text."""
        if not images:
            return [{"role": "user", "content": text}]
        return [
            {
                "role": "user",
                "content": [{"type": "image", "image": p} for p in images] + [{"type": "text", "text": text}],
            }
        ]

    # the model calls --------------------------------------------------------------------------

    def check_reply(self, step: str, row: Dict[str, Any], parsed: Any) -> Checked:
        """A substance check of one parsed reply of `row` at `step`; the default accepts every reply."""
        return Checked()

    def ask_rows(
        self, step: str, rows: Sequence[Dict[str, Any]], requests: Sequence[Request]
    ) -> List[List[ChatResult]]:
        """Ask each row's request at `step`; a reply `check_reply` refuses is retried (with the reason fed back when the
        op has a `retry_feedback` template). The state of each row's last checked reply (the accepted one, or the
        last refused) is kept in `self.checked[(step, row id)]`."""

        def check(k: int, parsed: Any) -> Optional[Tuple[str, str]]:
            found = self.check_reply(step, rows[k], parsed)
            self.checked[(step, rows[k][ROW_ID])] = found.state
            return found.failure

        return self.ask(
            [(row[ROW_ID], req) for row, req in zip(rows, requests)],
            check=check,
            feedback=self.feedback if "retry_feedback" in self.templates else None,
        )

    def feedback(self, reason: str) -> str:
        """The user turn that tells the model why its reply was refused (the `retry_feedback` template)."""
        return self.templates["retry_feedback"].render(reason=reason, structured=self.structured_reply)

    def ask(
        self,
        requests: Sequence[Tuple[str, Request]],
        check: Optional[Callable[[int, Any], Optional[Tuple[str, str]]]] = None,
        feedback: Optional[Callable[[str], str]] = None,
    ) -> List[List[ChatResult]]:
        """Send (row id, request) pairs, one batched call per schema and sampling; returns each request's
        `n` results. `check(index into requests, parsed)` refuses a reply on substance (see `chat_batch`)."""
        groups: Dict[Any, List[Tuple[int, int]]] = {}
        for index, (_, req) in enumerate(requests):
            group = groups.setdefault((req.schema, json.dumps(req.sampling, sort_keys=True)), [])
            group.extend((index, j) for j in range(req.n))
        out: List[List[ChatResult]] = [[] for _ in requests]
        for (schema, _), items in groups.items():
            results = self.llm.chat_batch(
                [requests[i][1].conversation for i, _ in items],
                sampling=requests[items[0][0]][1].sampling,
                schema=schema,
                keys=[requests[i][1].key(requests[i][0], j) for i, j in items],
                check=None if check is None else (lambda k, parsed, _items=items: check(_items[k][0], parsed)),
                feedback=feedback,
            )
            for r in results:
                self.counters.usage.add(r.usage)
                self.counters.requests += r.sent
                self.counters.cache_hits += r.attempts - r.sent
            for (i, _), res in zip(items, results):
                out[i].append(res)
        return out

    def provenance(
        self,
        rid: str,
        templates: Sequence[str] = (),
        result: Optional[ChatResult] = None,
        extra: Optional[Dict] = None,
    ) -> str:
        """What produced a row's fields: model, templates, usage and attempts (none for a row that needed no
        model call), plus what the op adds."""
        result = result or ChatResult()
        record = {
            **self.llm.describe(),
            "templates": [self.templates[n].provenance() for n in templates],
            "row_id": rid,
            "usage": result.usage.to_dict(),
            "attempts": result.attempts,
            "language": self.language,
            **(extra or {}),
        }
        return json.dumps(record, ensure_ascii=False)

    @staticmethod
    def reason_of(result: ChatResult, step: str) -> str:
        return f"{step}_{result.error.reason if result.error is not None else 'unknown'}"

    # bookkeeping ------------------------------------------------------------------------------

    def empty_hint(self, totals: Dict) -> str:
        """What to try when the op kept no row (appended to its warning): ": <hint>", or ""."""
        return ""

    def end_batch(self) -> None:
        self.counters.flush()
        if ray_running():  # Data-Juicer's Ray executor never calls run(): report the running totals here
            logger.info(summary_line(self.counters.totals()) + " (so far, Ray)")

    def log_summary(self) -> Dict:
        totals = self.counters.totals()
        logger.info(summary_line(totals))
        if totals["rows_in"] and not totals["kept"]:  # the job will end "successfully" with nothing: say why
            reasons = ", ".join(f"{k}: {v}" for k, v in Counter(totals["dropped"]).most_common()) or "none counted"
            logger.warning(
                f"{self._name}: kept none of its {totals['rows_in']} rows ({reasons}); nothing reaches the "
                f"later ops or the export{self.empty_hint(totals)}; `mindgym-report <export_path>` shows the rows "
                "it dropped when the recipe opens Data-Juicer's tracer (open_tracer: true)"
            )
        spent = pipeline_tokens(self.counters.dir)
        if totals["kept"]:
            logger.info(
                f"{self._name}: pipeline so far {spent} tokens over {totals['kept']} surviving rows = "
                f"{spent / totals['kept']:.0f} tokens per accepted record"
            )
        return totals
