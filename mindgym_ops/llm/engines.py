"""One engine per process: every op whose backend, model and engine parameters match shares one.

An engine is the heavy runtime a backend drives: a llama.cpp model, a transformers model, a vLLM
`LLM`. Backends are light handles that ask this registry for their engine by key; sampling stays
per op. Each `LLM` registers itself as a user of its key when it is built; when the last user in this
process closes (an op's run has ended) the engine is released, and whatever is left is released at
exit. A forked or spawned worker starts with an empty registry and loads one engine of its own.

Every load and release is one log line (`mindgym engine: loaded ...`), so a run's log says how many
engines it built."""

import atexit
import gc
import json
import os
import threading
from collections import Counter
from typing import Any, Callable, Dict, Optional

from loguru import logger

_LOCK = threading.RLock()
_STATE: Dict[str, Any] = {"pid": None, "engines": {}, "closers": {}, "users": Counter(), "loads": Counter()}


def engine_key(backend: str, model: str, params: Dict[str, Any]) -> str:
    """Stable key of an engine: what it is loaded from and how (never secrets, never sampling)."""
    return json.dumps({"backend": backend, "model": model, "params": params}, sort_keys=True, default=str)


def _state() -> Dict[str, Any]:
    if _STATE["pid"] != os.getpid():  # a child process inherits no usable engine: start empty
        _STATE.update(pid=os.getpid(), engines={}, closers={}, users=Counter(), loads=Counter())
    return _STATE


def get(key: str, build: Callable[[], Any], close: Optional[Callable[[Any], None]] = None) -> Any:
    """This process's engine for `key`, built on first use."""
    with _LOCK:
        st = _state()
        if key not in st["engines"]:
            what = json.loads(key)
            logger.info(f"mindgym engine: loading {what['backend']} {what['model']} (pid {os.getpid()})")
            st["engines"][key] = build()
            st["closers"][key] = close
            st["loads"][key] += 1
            logger.info(
                f"mindgym engine: loaded {what['backend']} {what['model']}; "
                f"{len(st['engines'])} engine(s) in this process, {sum(st['loads'].values())} load(s) so far"
            )
        return st["engines"][key]


def add_user(key: str) -> None:
    with _LOCK:
        _state()["users"][key] += 1


def remove_user(key: str) -> None:
    """An op is done with its engine; the last one out releases it."""
    with _LOCK:
        st = _state()
        if st["users"][key] > 0:
            st["users"][key] -= 1
        if st["users"][key] == 0:
            release(key)


def release(key: str, log: bool = True) -> None:
    with _LOCK:
        st = _state()
        engine = st["engines"].pop(key, None)
        close = st["closers"].pop(key, None)
        if engine is None:
            return
        what = json.loads(key)
        try:
            if close is not None:
                close(engine)
        finally:
            del engine
            gc.collect()
            _empty_device_cache()
            if log:
                logger.info(f"mindgym engine: released {what['backend']} {what['model']} (pid {os.getpid()})")


def loads(key: Optional[str] = None) -> int:
    """How many engines this process has built (for one key, or all)."""
    st = _state()
    return st["loads"][key] if key is not None else sum(st["loads"].values())


def release_all(log: bool = True) -> None:
    with _LOCK:
        for key in list(_state()["engines"]):
            release(key, log)


def _release_at_exit() -> None:
    release_all(log=False)  # the log's streams may already be closed


def _empty_device_cache() -> None:
    import sys

    torch = sys.modules.get("torch")  # only if something already imported it
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


atexit.register(_release_at_exit)
