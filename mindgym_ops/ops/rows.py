"""Row, column and Ray helpers, and the names of the fields every MindGYM op shares.

Data-Juicer hands batched ops a dict of columns; the ops work on rows. Each row carries one id
(`ROW_ID`): the background mapper numbers the input rows, and any op that meets a row without one
derives it from the row's content, so request-cache keys and provenance name the same row."""

import hashlib
import json
import sys
from typing import Any, Dict, Iterable, List, Optional

from ..rules.seeds import worked_out

ROW_ID = "mindgym_row_id"
FAILURE_KEY = "mindgym_failure"  # meta key: "" on good rows, "<op>:<reason>" on rows a mapper flagged


def columns_to_rows(samples: Dict[str, List[Any]]) -> List[Dict[str, Any]]:
    keys = list(samples.keys())
    n = len(samples[keys[0]]) if keys else 0
    return [{k: samples[k][i] for k in keys} for i in range(n)]


def rows_to_columns(rows: List[Dict[str, Any]], keys: Iterable[str]) -> Dict[str, List[Any]]:
    return {k: [r.get(k) for r in rows] for k in keys}


def numbered_row_id(index: int) -> str:
    """The id of the index-th input row; `row_number` reads the index back (round-robin areas)."""
    return f"r{index}"


def row_number(rid: str) -> Optional[int]:
    """The index in a `numbered_row_id`, or None for any other id (a content hash)."""
    return int(rid[1:]) if rid.startswith("r") and rid[1:].isdigit() else None


def row_id(row: Dict[str, Any], position: int) -> str:
    """A stable id for a row: its `mindgym_row_id`, else a content hash plus its batch position."""
    rid = row.get(ROW_ID)
    if rid:
        return str(rid)
    blob = json.dumps({k: v for k, v in row.items() if not k.startswith("__dj__")}, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()[:12] + f"-{position}"


def answer_source(row: Dict[str, Any], image_key: str = "images") -> str:
    """How a record's answer is known: `code` when code works it out from two seed answers found in the row's
    document (`rules.seeds.worked_out`; an image row's seeds are not looked up in a document), else `model`."""
    found = worked_out(
        row.get("multihop_question") or row.get("query") or "",
        row.get("multihop_answer") or row.get("response") or "",
        row.get("sub_questions") or [],
        "" if row.get(image_key) else row.get("background_document") or "",
    )
    return "code" if found else "model"


def ray_running() -> bool:
    """Whether this process is part of a Ray cluster (a Ray worker, or the Ray executor's driver)."""
    ray = sys.modules.get("ray")
    return bool(ray is not None and ray.is_initialized())
