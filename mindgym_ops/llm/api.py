"""`api` backend: any OpenAI-compatible server through the official async `openai` client.

Concurrency is capped per process (`max_concurrency`); transport retries with exponential
backoff cover 429 (honouring Retry-After), 408/409/5xx, timeouts and dropped connections.
Structured output tries `json_schema`, falls back to `json_object` (+ schema) and then to
plain text with tolerant extraction, remembering the first mode the server accepts."""

import asyncio
import os
import random
from typing import Any, Dict, List, Optional

from loguru import logger

from .base import Backend, Conversation, OnReply
from .images import image_data_uri
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


class APIBackend(Backend):
    name = "api"

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
        self.max_image_pixels = int(p.get("max_image_pixels", 1024 * 1024))
        self.max_image_bytes = int(p.get("max_image_bytes", 20 * 1024 * 1024))
        mode = p.get("structured_output", "json_schema")
        if mode not in STRUCTURED_MODES:
            raise ValueError(f"model_params.structured_output must be one of {list(STRUCTURED_MODES)}, got {mode!r}")
        self.structured_mode = mode
        self.transport_retries = 0  # counted for the reliability report
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._client = None
        self._pid: Optional[int] = None

    # the client and loop belong to one process; a forked worker makes its own
    def _ensure_client(self):
        if self._client is None or self._pid != os.getpid():
            import logging

            import openai

            for name in ("httpx", "httpx2", "openai"):  # one INFO line per request would flood DJ's log
                logging.getLogger(name).setLevel(logging.WARNING)
            self._loop = asyncio.new_event_loop()
            api_key = self.model_params.get("api_key") or os.environ.get("OPENAI_API_KEY") or "EMPTY"
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=api_key, max_retries=0, timeout=self.timeout
            )
            self._pid = os.getpid()
        return self._client

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_loop"], state["_client"], state["_pid"] = None, None, None
        return state

    def _to_openai_messages(self, conversation: Conversation) -> List[Dict[str, Any]]:
        out = []
        for m in conversation:
            c = m.get("content")
            if isinstance(c, list):
                parts = []
                for part in c:
                    if part.get("type") == "image":
                        url = image_data_uri(part["image"], self.max_image_pixels, self.max_image_bytes)
                        parts.append({"type": "image_url", "image_url": {"url": url}})
                    else:
                        parts.append({"type": "text", "text": part.get("text", "")})
                c = parts
            out.append({"role": m["role"], "content": c})
        return out

    def _response_format(self, schema: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if schema is None or self.structured_mode == "text":
            return None
        if self.structured_mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": schema.get("title", "reply"), "schema": schema}}
        return {"type": "json_object", "schema": schema}

    def _downgrade(self, reason: str) -> None:
        i = STRUCTURED_MODES.index(self.structured_mode)
        if i + 1 < len(STRUCTURED_MODES):
            logger.info(f"api backend: server rejected {self.structured_mode} output ({reason[:80]}); "
                        f"falling back to {STRUCTURED_MODES[i + 1]}")
            self.structured_mode = STRUCTURED_MODES[i + 1]

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_base * (2**attempt)) * (0.5 + random.random() / 2)

    async def _one(self, messages, sampling, schema, request_id: Optional[str] = None) -> RawReply:
        import openai

        client = self._client
        kwargs = {k: sampling[k] for k in _SAMPLING if sampling.get(k) is not None}
        extra = {k: sampling[k] for k in _EXTRA_SAMPLING if sampling.get(k) is not None}
        last = "no attempt"
        attempt = 0
        while attempt <= self.max_retries:
            rf = self._response_format(schema)
            try:
                resp = await client.chat.completions.create(
                    model=self.model, messages=messages, response_format=rf or openai.NOT_GIVEN,
                    extra_body=extra or None, extra_headers={"X-MindGYM-Request": request_id} if request_id else None,
                    **kwargs,
                )
                usage = Usage()
                if getattr(resp, "usage", None) is not None:
                    usage = Usage(int(resp.usage.prompt_tokens or 0), int(resp.usage.completion_tokens or 0))
                choices = getattr(resp, "choices", None)
                if not choices:
                    return RawReply(usage=usage, error=LLMError(ErrorKind.EMPTY, "reply has no choices"))
                choice = choices[0]
                text = getattr(getattr(choice, "message", None), "content", None)
                if not isinstance(text, str) or not text.strip():
                    return RawReply(usage=usage, finish_reason=getattr(choice, "finish_reason", None),
                                    error=LLMError(ErrorKind.EMPTY, "reply message is empty"))
                return RawReply(text=text, usage=usage, finish_reason=choice.finish_reason)
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
                self.transport_retries += 1
                await asyncio.sleep(delay)
        return RawReply(error=LLMError(ErrorKind.TRANSPORT, f"gave up after {self.max_retries + 1} tries: {last}"))

    async def _run(self, conversations, sampling, schema, on_reply, request_ids):
        sem = asyncio.Semaphore(self.max_concurrency)

        async def guarded(i: int, conv: Conversation) -> RawReply:
            async with sem:
                try:
                    messages = self._to_openai_messages(conv)
                except LLMError as e:
                    reply = RawReply(error=e)
                else:
                    reply = await self._one(messages, sampling, schema, request_ids[i] if request_ids else None)
            if on_reply is not None:
                on_reply(i, reply)
            return reply

        return await asyncio.gather(*(guarded(i, c) for i, c in enumerate(conversations)))

    def generate(self, conversations, sampling, schema, on_reply: Optional[OnReply] = None,
                 request_ids=None) -> List[RawReply]:
        if not conversations:
            return []
        self._ensure_client()
        return list(self._loop.run_until_complete(self._run(conversations, sampling, schema, on_reply, request_ids)))

    def __del__(self):
        self.close()

    def close(self) -> None:
        loop, client = getattr(self, "_loop", None), getattr(self, "_client", None)
        if client is not None and self._pid == os.getpid() and loop is not None and not loop.is_closed() \
                and not loop.is_running():
            coro = client.close()
            try:
                loop.run_until_complete(coro)
                loop.close()
            except Exception:  # at interpreter exit the loop may already be unusable
                coro.close()
        self._client = self._loop = self._pid = None
