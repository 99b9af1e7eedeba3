"""`api` backend: any OpenAI-compatible server through the official async `openai` client.

Concurrency is capped per process (`max_concurrency`); transport retries with exponential
backoff cover 429 (honouring Retry-After), 408/409/5xx, timeouts and dropped connections.
Structured output tries `json_schema`, falls back to `json_object` (+ schema) and then to
plain text with tolerant extraction. The mode a server accepts is learned once per process and shared
by every op that talks to it: until a structured request has succeeded, one request probes while the
others wait, so a server that refuses a mode is asked that way once, not once per in-flight request."""

import asyncio
import gc
import os
import random
from typing import Any, Dict, List, Optional

from loguru import logger

from .base import Backend, Conversation, OnReply
from .images import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, openai_messages
from .types import ErrorKind, LLMError, RawReply, Usage

STRUCTURED_MODES = ("json_schema", "json_object", "text")
_SAMPLING = ("temperature", "top_p", "max_tokens", "seed", "stop")
_EXTRA_SAMPLING = ("top_k", "repetition_penalty")  # not OpenAI fields: sent through extra_body


def _retry_after(response) -> Optional[float]:
    if response is None:
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                return None
    return None


def _looks_like_format_rejection(status: int, body: str) -> bool:
    body = body.lower()
    return status in (400, 422) or (
        status == 500 and ("response_format" in body or "json_schema" in body or "input should be" in body)
    )


def _reply_from_json(resp: Any) -> RawReply:
    """A chat completion body (a plain dict) -> RawReply; a body of the wrong shape is a typed error."""
    if not isinstance(resp, dict):
        return RawReply(error=LLMError(ErrorKind.EMPTY, f"reply body is {type(resp).__name__}, not an object"))
    u = resp.get("usage") if isinstance(resp.get("usage"), dict) else {}
    usage = Usage(int(u.get("prompt_tokens") or 0), int(u.get("completion_tokens") or 0))
    choices = resp.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return RawReply(usage=usage, error=LLMError(ErrorKind.EMPTY, "reply has no choices"))
    choice = choices[0]
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    text, finish = message.get("content"), choice.get("finish_reason")
    return RawReply.of(text, usage, finish)


class APIBackend(Backend):
    name = "api"
    _handles = ("_client",)

    def __init__(self, model: str, model_params: Dict[str, Any]):
        super().__init__(model, model_params)
        p = self.model_params
        self.base_url = p.get("base_url") or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        if not self.base_url:
            raise ValueError("api backend: set OPENAI_BASE_URL or model_params.base_url to the server's /v1 URL")
        self.max_concurrency = int(p.get("max_concurrency", 32))
        self.timeout = float(p.get("timeout", 120.0))
        self.max_retries = int(p.get("max_retries", 6))
        self.backoff_base = float(p.get("backoff_base", 0.5))
        self.backoff_max = float(p.get("backoff_max", 30.0))
        self.max_image_pixels = int(p.get("max_image_pixels", DEFAULT_MAX_PIXELS))
        self.max_image_bytes = int(p.get("max_image_bytes", DEFAULT_MAX_FILE_BYTES))
        mode = p.get("structured_output", "json_schema")
        if mode not in STRUCTURED_MODES:
            raise ValueError(f"model_params.structured_output must be one of {list(STRUCTURED_MODES)}, got {mode!r}")
        self._initial_mode = mode

    def _mode_state(self) -> Dict[str, Any]:
        """The structured-output mode learned for this server and model in this process."""
        _shared_loop()
        modes = _SHARED["modes"]
        key = (self.base_url, self.model, self._initial_mode)
        if key not in modes:
            modes[key] = {"mode": self._initial_mode, "confirmed": self._initial_mode == "text", "lock": None}
        return modes[key]

    @property
    def structured_mode(self) -> str:
        return self._mode_state()["mode"]

    def _open(self) -> None:
        api_key = self.model_params.get("api_key") or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self._client = _shared_client(self.base_url, api_key, self.timeout)

    def _response_format(self, schema: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if schema is None or self.structured_mode == "text":
            return None
        if self.structured_mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": schema.get("title", "reply"), "schema": schema}}
        return {"type": "json_object", "schema": schema}

    def _downgrade(self, reason: str) -> None:
        state = self._mode_state()
        i = STRUCTURED_MODES.index(state["mode"])
        if i + 1 < len(STRUCTURED_MODES):
            logger.info(
                f"api backend: server rejected {state['mode']} output ({reason[:80]}); "
                f"falling back to {STRUCTURED_MODES[i + 1]} for every op in this process"
            )
            state["mode"] = STRUCTURED_MODES[i + 1]
            state["confirmed"] = state["mode"] == "text"

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2**attempt)) * (0.5 + random.random() / 2)

    async def _one(self, messages, sampling, schema, request_id: Optional[str] = None) -> RawReply:
        state = self._mode_state()
        if schema is None or state["confirmed"]:
            return await self._send(messages, sampling, schema, request_id)
        if state["lock"] is None:
            state["lock"] = asyncio.Lock()
        async with state["lock"]:  # the first structured request probes the mode; the rest wait for it
            if not state["confirmed"]:
                reply = await self._send(messages, sampling, schema, request_id)
                if reply.error is None:
                    state["confirmed"] = True
                return reply
        return await self._send(messages, sampling, schema, request_id)

    async def _send(self, messages, sampling, schema, request_id: Optional[str] = None) -> RawReply:
        import openai

        client = self._client
        kwargs = {k: sampling[k] for k in _SAMPLING if sampling.get(k) is not None}
        extra = {k: sampling[k] for k in _EXTRA_SAMPLING if sampling.get(k) is not None}
        last = "no attempt"
        attempt = 0
        while attempt <= self.max_retries:
            rf = self._response_format(schema)
            try:
                # the client's generic post: its typed transform of chat params costs ~2.5 ms per
                # request (more than everything else we do per row) and our body is already plain JSON
                body = {"model": self.model, "messages": messages, **kwargs, **extra}
                if rf is not None:
                    body["response_format"] = rf
                resp = await client.post(
                    "/chat/completions",
                    cast_to=object,
                    body=body,
                    options={"headers": {"X-MindGYM-Request": request_id}} if request_id else {},
                )
                return _reply_from_json(resp)
            except openai.APIStatusError as e:
                status, body = e.status_code, str(getattr(e, "message", "")) + str(getattr(e, "body", ""))
                if rf is not None and _looks_like_format_rejection(status, body):
                    self._downgrade(f"HTTP {status}")
                    continue  # a format rejection is not a transport failure: no retry budget spent
                last = f"HTTP {status}"
                if status not in (408, 409, 429) and status < 500:
                    return RawReply(error=LLMError(ErrorKind.TRANSPORT, f"{last}: {e.message[:200]}"))
                delay = _retry_after(e.response) if status == 429 else None
                delay = self._backoff(attempt) if delay is None else min(delay, self.backoff_max)
            except (openai.APITimeoutError, openai.APIConnectionError) as e:
                last, delay = type(e).__name__, self._backoff(attempt)
            except Exception as e:  # malformed bodies and the like: bounded like any transport fault
                last, delay = f"{type(e).__name__}: {str(e)[:120]}", self._backoff(attempt)
            attempt += 1
            if attempt <= self.max_retries:
                await asyncio.sleep(delay)
        return RawReply(error=LLMError(ErrorKind.TRANSPORT, f"gave up after {self.max_retries + 1} tries: {last}"))

    async def _run(self, conversations, sampling, schema, on_reply, request_ids):
        sem = asyncio.Semaphore(self.max_concurrency)

        async def guarded(i: int, conv: Conversation) -> RawReply:
            async with sem:
                try:
                    messages = openai_messages(conv, self.max_image_pixels, self.max_image_bytes)
                except LLMError as e:
                    reply = RawReply(error=e)
                else:
                    reply = await self._one(messages, sampling, schema, request_ids[i] if request_ids else None)
            if on_reply is not None:
                on_reply(i, reply)
            return reply

        return await asyncio.gather(*(guarded(i, c) for i, c in enumerate(conversations)))

    def generate(
        self, conversations, sampling, schema, on_reply: Optional[OnReply] = None, request_ids=None
    ) -> List[RawReply]:
        if not conversations:
            return []
        self._ensure()
        return list(_run_coroutine(self._run(conversations, sampling, schema, on_reply, request_ids)))


# One event loop and one client per (server, key, timeout) per process, shared by every op in it:
# connections stay warm across ops and batches, and nothing is torn down while another loop runs.
# A forked or spawned worker builds its own on first use.
_SHARED: Dict[str, Any] = {"pid": None, "loop": None, "clients": {}, "modes": {}}


def _shared_loop() -> asyncio.AbstractEventLoop:
    if _SHARED["pid"] != os.getpid():
        _SHARED.update(pid=os.getpid(), loop=asyncio.new_event_loop(), clients={}, modes={})
        # Data-Juicer, pydantic and the client leave ~1M long-lived objects; a full collection of them
        # stalls the loop ~0.3 s mid-batch (every in-flight request waits). Collect once, then freeze
        # them out of later collections.
        gc.collect()
        gc.freeze()
    return _SHARED["loop"]


def _shared_client(base_url: str, api_key: str, timeout: float):
    import hashlib
    import logging

    import openai

    _shared_loop()
    key = (base_url, hashlib.sha256(api_key.encode()).hexdigest(), timeout)
    if key not in _SHARED["clients"]:
        for name in ("httpx", "httpx2", "openai"):  # one INFO line per request would flood DJ's log
            logging.getLogger(name).setLevel(logging.WARNING)
        _SHARED["clients"][key] = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout)
    return _SHARED["clients"][key]


def _run_coroutine(coro):
    """Run on the process's shared loop; from inside a running loop (notebooks, async actors) use a
    helper thread, since a loop cannot be re-entered."""
    loop = _shared_loop()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return loop.run_until_complete(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(loop.run_until_complete, coro).result()
