"""Opt-in request cache: sqlite in the work dir, safe under several processes.

Each completed request is written as soon as it completes, so a crash or `kill -9` loses only
the requests that were still in flight. Secrets never enter the key or the value: the key is a
hash of backend, model, messages, sampling, schema, row nonce and attempt number."""

import hashlib
import json
import os
import sqlite3
from typing import Any, Dict, Optional

from .types import RawReply

CACHE_FILE = "mindgym_requests.sqlite"


def request_key(payload: Dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestCache:
    def __init__(self, cache_dir: str):
        os.makedirs(cache_dir, exist_ok=True)
        self.path = os.path.join(cache_dir, CACHE_FILE)
        self._conn: Optional[sqlite3.Connection] = None
        self._pid: Optional[int] = None
        self.hits = 0
        self.misses = 0

    def _db(self) -> sqlite3.Connection:
        # one connection per process: a connection inherited through fork must not be reused
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get(self, key: str) -> Optional[RawReply]:
        row = self._db().execute("SELECT value FROM replies WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return RawReply.from_json(json.loads(row[0]))

    def put(self, key: str, reply: RawReply) -> None:
        if reply.error is not None:
            return  # only completed requests are worth keeping
        value = json.dumps(reply.to_json(), ensure_ascii=False)
        self._db().execute("INSERT OR REPLACE INTO replies (key, value) VALUES (?, ?)", (key, value))

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_conn"], state["_pid"] = None, None
        return state
