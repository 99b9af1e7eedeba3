"""What the evaluator reads off evalscope's outputs besides its score: how many problems were scored, a 95%
interval for the accuracy (Wilson), and the format of the replies: the share that reason before they answer.

A model trained on the paper's last stage (question -> answer) can stop reasoning ("Answer: 14 years") and lose
what the reasoning carried; the score alone does not say why, the format share does."""

import json
import math
import os
import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

Z95 = 1.959963984540054
MIN_REASONING_WORDS = 8  # a reply reasons before it answers when at least this many words come first
# where a reply states its answer: a marker ("Answer:", "the answer is", \boxed, "####", 答案), else its last number
_ANSWER_AT = re.compile(
    r"\\boxed\{|####|\b(?:final answer|the answer is|answer)\s*(?:is)?\s*[:：]?|答案\s*[:：是为]", re.IGNORECASE
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[^\W_]+|[\u3400-\u9fff]", re.UNICODE)


def wilson(correct: float, n: int, z: float = Z95) -> Tuple[float, float]:
    """The Wilson score interval of a proportion `correct / n` (95% by default); (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def answer_position(reply: str) -> Optional[int]:
    """Where a reply states its answer: its first answer marker, else its last number; None when it gives neither."""
    marker = _ANSWER_AT.search(reply or "")
    if marker:
        return marker.start()
    found = list(_NUMBER.finditer(reply or ""))
    return found[-1].start() if found else None


def reasons_first(reply: str) -> bool:
    """Whether a reply works towards its answer before it states it: at least MIN_REASONING_WORDS words come
    before its answer ("Answer: 14 years" does not; "1997 - 1994 = 3, so the answer is 3" does)."""
    at = answer_position(reply)
    if at is None:
        return False
    return len(_WORD.findall(reply[:at])) >= MIN_REASONING_WORDS


def _rows(path: str) -> Iterable[Dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def reply_text(row: Dict[str, Any]) -> str:
    """The model's reply in one row of evalscope's review files: the last assistant message."""
    for message in reversed(row.get("messages") or []):
        if message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, list):  # content parts
                return " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
            return str(content or "")
    return ""


def review_figures(work_dir: str, model: str, bench: str) -> Dict[str, Any]:
    """n (problems scored), correct, and the replies that reason first, read from evalscope's review files of one
    evaluation (`<work_dir>/reviews/<model>/<bench>_*.jsonl`); n = 0 when there are none."""
    folder = os.path.join(work_dir, "reviews", model)
    files = sorted(f for f in os.listdir(folder) if f.startswith(bench)) if os.path.isdir(folder) else []
    n, correct, first = 0, 0.0, 0
    for name in files:
        for row in _rows(os.path.join(folder, name)):
            n += 1
            correct += review_score(row)
            first += reasons_first(reply_text(row))
    return {"n": n, "correct": correct, "reasons_first": first}


def review_score(row: Dict[str, Any]) -> float:
    """The score evalscope gave one reviewed problem (its main metric, 0-1)."""
    score = row.get("sample_score") or {}
    value = (score.get("score") or {}).get("value") if isinstance(score, dict) else None
    if isinstance(value, dict) and value:
        return float(next(iter(value.values())))
    return 0.0


def summarise(figures: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Sum the figures of several files of one evaluation."""
    return {k: sum(f[k] for f in figures) for k in ("n", "correct", "reasons_first")}
