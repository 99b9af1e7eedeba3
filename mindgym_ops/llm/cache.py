"""Opt-in request cache: sqlite in the work dir, safe under several processes.

Each completed request is written as soon as it completes, so a crash or `kill -9` loses only
the requests that were still in flight. Secrets never enter the key or the value: the key is a
hash of backend, model, messages, sampling, schema, row nonce and attempt number."""

import hashlib
import json
import os
import sqlite3
from typing import Any, Dict, List

from .process_local import ProcessLocal
from .types import RawReply

CACHE_FILE = "mindgym_requests.sqlite"


def request_key(payload: Dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestCache(ProcessLocal):
    """One sqlite connection per process: a connection inherited through fork must not be reused."""

    _handles = ("_conn",)

    def __init__(self, cache_dir: str):
        os.makedirs(cache_dir, exist_ok=True)
        self.path = os.path.join(cache_dir, CACHE_FILE)
        self._reset()

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # OFF still survives a killed process (each commit is in the OS's hands at once); only a power
        # loss can drop the last replies. It halves the cost of a write, paid once per request.
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._conn = conn

    def _db(self) -> sqlite3.Connection:
        self._ensure()
        return self._conn

    def get_many(self, keys: List[str]) -> Dict[str, RawReply]:
        """The cached replies among `keys`, in one query per chunk (a batch is thousands of requests)."""
        found: Dict[str, RawReply] = {}
        db = self._db()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, value in db.execute(f"SELECT key, value FROM replies WHERE key IN ({marks})", chunk):
                found[key] = RawReply.from_json(json.loads(value))
        return found

    def put(self, key: str, reply: RawReply) -> None:
        if reply.error is not None:
            return  # only completed requests are worth keeping
        value = json.dumps(reply.to_json(), ensure_ascii=False)
        self._db().execute("INSERT OR REPLACE INTO replies (key, value) VALUES (?, ?)", (key, value))
