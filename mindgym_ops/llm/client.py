"""The one model layer: `LLM.chat_batch(conversations, sampling, schema) -> list[ChatResult]`.

Ops never branch on backend. This class adds, on top of any backend: the env overrides
(`MINDGYM_BACKEND`, `MINDGYM_MODEL`), the request cache, parse retries that stop at the first
valid reply and re-send only the conversations that failed, and usage accounting."""

import os
import re
from difflib import SequenceMatcher
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Type, Union

from pydantic import BaseModel

from . import engines
from .base import Backend, Conversation
from .cache import RequestCache, request_key
from .parsing import TextSchema, parse_reply
from .types import ChatResult, ErrorKind, LLMError, Usage

BACKENDS = ("api", "vllm", "hf", "local")
DEFAULT_BACKEND = "local"
DEFAULT_MODELS = {
    "local": "qwen2.5-0.5b",
    "api": "gpt-4o-mini",
    "hf": "Qwen/Qwen2.5-0.5B-Instruct",
    "vllm": "Qwen/Qwen2.5-VL-7B-Instruct",
}
DEFAULT_SAMPLING = {"temperature": 0.7, "top_p": 0.95, "max_tokens": 1024}
# never part of a cache key, a log line or provenance
SECRET_PARAMS = ("api_key",)
# retried at the parse level; a transport failure has already had its backoff retries
RETRYABLE = (ErrorKind.EMPTY, ErrorKind.PARSE, ErrorKind.VALIDATION, ErrorKind.TRUNCATED)
# a per-conversation check of a parsed reply: (code, message) when it fails, None when it holds
_SPACE = re.compile(r"\s+")
RETRY_TEMPERATURE = 0.7  # a retry of a greedy (temperature 0) request samples, or it would repeat its reply
ECHO = 0.9  # a retried reply this similar to a refused one (characters, spaces ignored) repeats it


def echoes(reply: str, refused: str) -> bool:
    return reply == refused or SequenceMatcher(None, reply, refused, autojunk=False).ratio() >= ECHO


Check = Callable[[int, Any], Optional[Tuple[str, str]]]
# the user turn that tells the model why its last reply was refused
Feedback = Callable[[str], str]


GRAMMAR_MAX_LENGTH = 400


def grammar_safe(schema: Any) -> Any:
    """The JSON schema without long string-length limits. Pydantic still enforces every limit on the
    reply; sent to a grammar engine, a maxLength of 2000 becomes a 2000-fold repetition rule that
    llama.cpp refuses (and aborts the process on). Short limits stay: they keep a small model's
    one-line reasons from running on to max_tokens."""
    if isinstance(schema, dict):
        return {
            k: grammar_safe(v)
            for k, v in schema.items()
            if not (k in ("minLength", "maxLength") and isinstance(v, int) and v > GRAMMAR_MAX_LENGTH)
        }
    if isinstance(schema, list):
        return [grammar_safe(v) for v in schema]
    return schema


def resolve_backend_and_model(backend: Optional[str], model: Optional[str]) -> "tuple[str, str]":
    """Apply the env overrides and validate; errors name the field and the allowed values."""
    backend = os.environ.get("MINDGYM_BACKEND") or backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    model = os.environ.get("MINDGYM_MODEL") or model or DEFAULT_MODELS[backend]
    return backend, model


def make_backend(backend: str, model: str, model_params: Dict[str, Any]) -> Backend:
    if backend == "api":
        from .api import APIBackend as cls
    elif backend == "local":
        from .local import LocalBackend as cls
    elif backend == "hf":
        from .hf import HFBackend as cls
    else:
        from .vllm import VLLMBackend as cls
    return cls(model, model_params)


class LLM:
    def __init__(
        self,
        backend: Optional[str] = None,
        model: Optional[str] = None,
        model_params: Optional[Dict[str, Any]] = None,
        sampling_params: Optional[Dict[str, Any]] = None,
        cache_dir: Optional[str] = None,
        try_num: int = 3,
    ):
        if not isinstance(try_num, int) or try_num < 1:
            raise ValueError(f"try_num must be an integer >= 1, got {try_num!r}")
        self.backend_name, self.model = resolve_backend_and_model(backend, model)
        self.model_params = dict(model_params or {})
        self.sampling = {**DEFAULT_SAMPLING, **(sampling_params or {})}
        self.try_num = try_num
        self.cache = RequestCache(cache_dir) if cache_dir else None
        self.usage = Usage()
        self.requests = 0
        # the backend validates its own params now (config time) and loads its engine lazily, once per
        # process for every LLM whose backend, model and engine params match (see engines.py)
        self._backend = make_backend(self.backend_name, self.model, self.model_params)
        self._engine_key = self._backend.engine_key
        if self._engine_key is not None:
            engines.add_user(self._engine_key)

    @property
    def backend(self) -> Backend:
        return self._backend

    def describe(self) -> Dict[str, str]:
        """Provenance: what produced a record (no secrets)."""
        return {"backend": self.backend_name, "model": self.model}

    def _key(self, conv: Conversation, sampling: Dict[str, Any], schema_name: str, nonce: str, attempt: int) -> str:
        return request_key(
            {
                "backend": self.backend_name,
                "model": self.model,
                "messages": conv,
                "sampling": sampling,
                "schema": schema_name,
                "nonce": nonce,
                "attempt": attempt,
                "params": {k: v for k, v in self.model_params.items() if k not in SECRET_PARAMS},
            }
        )

    def chat_batch(
        self,
        conversations: Sequence[Conversation],
        sampling: Optional[Dict[str, Any]] = None,
        schema: Optional[Union[Type[BaseModel], TextSchema]] = None,
        keys: Optional[Sequence[str]] = None,
        try_num: Optional[int] = None,
        check: Optional[Check] = None,
        feedback: Optional[Feedback] = None,
    ) -> List[ChatResult]:
        """Run a batch; each conversation is retried (up to `try_num` attempts) until its reply
        parses, and only the failed ones are re-sent. `keys` are per-row nonces: identical prompts
        on different rows get different cache entries and so sample independently.

        `check(i, parsed)` adds a substance test to the schema's (a failure is a VALIDATION error whose
        code is the counted reason); with `feedback`, a retried conversation carries the refused reply
        and `feedback(reason)` as a new user turn, so the model learns what to fix. A small model often
        answers that turn by repeating its refused reply, word for word or nearly (`ECHO`); a conversation
        that produced such a repeat is retried from the original prompt instead (a fresh sample), and so
        is every later attempt of it: the 0.5B echoed the feedback turn of each fresh sample again, so
        half of its attempts were copies."""
        n = len(conversations)
        keys = list(keys) if keys is not None else [""] * n
        sp = {**self.sampling, **(sampling or {})}
        structured = isinstance(schema, type) and issubclass(schema, BaseModel)
        schema_json = grammar_safe(schema.model_json_schema()) if structured else None
        schema_name = schema.__name__ if schema is not None else ""
        results = [ChatResult() for _ in range(n)]
        originals = list(conversations)
        conversations = list(originals)
        refused: List[List[str]] = [[] for _ in range(n)]  # reply texts refused on substance, per conversation
        echoed: Set[int] = set()  # conversations that answered feedback with an echo: fresh samples from then on
        pending = list(range(n))
        for attempt in range(try_num or self.try_num):
            attempt_sp = dict(sp)
            if attempt and attempt_sp.get("seed") is not None:
                attempt_sp["seed"] = int(attempt_sp["seed"]) + attempt  # a retry must not replay the same sample
            if attempt and attempt_sp.get("temperature") is not None and float(attempt_sp["temperature"]) == 0.0:
                attempt_sp["temperature"] = RETRY_TEMPERATURE  # nor, at temperature 0, the same greedy reply
            cache_keys = {i: self._key(conversations[i], attempt_sp, schema_name, keys[i], attempt) for i in pending}
            replies, todo = {}, []
            cached = self.cache.get_many(list(cache_keys.values())) if self.cache is not None else {}
            for i in pending:
                hit = cached.get(cache_keys[i])
                if hit is not None:
                    replies[i] = hit
                    results[i].cached = True
                else:
                    todo.append(i)

            def on_reply(j: int, reply, _todo=todo, _keys=cache_keys):
                if self.cache is not None:
                    self.cache.put(_keys[_todo[j]], reply)

            fresh = self._backend.generate(
                [conversations[i] for i in todo], attempt_sp, schema_json, on_reply, [cache_keys[i] for i in todo]
            )
            self.requests += len(todo)
            replies.update(zip(todo, fresh))
            for i in todo:
                results[i].sent += 1
            for i in pending:
                reply, res = replies[i], results[i]
                res.attempts += 1
                res.usage.add(reply.usage)
                self.usage.add(reply.usage)
                res.text, res.finish_reason, res.error, res.parsed = reply.text, reply.finish_reason, reply.error, None
                if res.error is None and schema is not None:
                    res.parsed, res.error = parse_reply(reply.text, schema, reply.finish_reason)
                if res.error is None and check is not None:
                    failed = check(i, res.parsed)
                    if failed is not None:
                        res.error = LLMError(ErrorKind.VALIDATION, failed[1], code=failed[0])
            pending = [i for i in pending if results[i].error is not None and results[i].error.kind in RETRYABLE]
            if not pending:
                break
            if feedback is not None:
                for i in pending:
                    text = results[i].text
                    if results[i].error.kind != ErrorKind.VALIDATION or not text:
                        continue
                    bare = _SPACE.sub("", text)
                    if i in echoed or any(echoes(bare, old) for old in refused[i]):  # start again, freshly sampled
                        echoed.add(i)  # it would echo the next feedback turn too: a wasted attempt
                        conversations[i] = originals[i]
                        continue
                    refused[i].append(bare)
                    conversations[i] = conversations[i] + [
                        {"role": "assistant", "content": text},
                        {"role": "user", "content": feedback(results[i].error.message)},
                    ]
        return results

    def close(self) -> None:
        """This LLM is done: the engine is released when it was the last user in this process."""
        self._backend.close()
        if self._engine_key is not None and getattr(self, "_closed_pid", None) != os.getpid():
            self._closed_pid = os.getpid()
            engines.remove_user(self._engine_key)
