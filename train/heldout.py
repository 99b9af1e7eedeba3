"""`mindgym-heldout records.jsonl --out DIR`: MindGYM records as a local set in the GSM8K layout, which evalscope's
own gsm8k benchmark scores offline (`benchmarks: {gsm8k: {dataset_id: DIR, few_shot_num: 0}}` in an eval config).

A record goes in when its answer is one number that is known to be right: worked out by code from two seed
answers found in its document (`answer_source: code`, a difference: "How many years passed between ...?"); with
`--unverified`, also a model-written answer that states exactly one number. Each problem carries its document
and its question in `question` (as the grounded curriculum rows do) and ends its `answer` with `#### <number>`.
Records used for training must not be given here: the set measures questions the model never saw."""

import argparse
import json
import os
import sys
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

from mindgym_ops.rules.seeds import expected_difference
from mindgym_ops.rules.words import answer_head, numbers
from mindgym_ops.text import cut_to_budget

from .common import read_jsonl

README = (
    "---\nconfigs:\n- config_name: main\n  data_files:\n  - split: test\n    path: main/test.jsonl\n"
    "  - split: train\n    path: main/train.jsonl\n---\n"
    "MindGYM held-out records in the GSM8K layout (written by mindgym-heldout).\n"
)
LABELS = {"en": ("Document:", "Question:"), "zh": ("文档：", "问题：")}


def _seeds(record: Dict[str, Any]) -> List[Dict[str, str]]:
    seeds = record.get("sub_questions") or []
    return json.loads(seeds) if isinstance(seeds, str) else list(seeds)


def numeric_answer(record: Dict[str, Any], unverified: bool = False) -> Tuple[Optional[float], str]:
    """(the record's answer as one number, why not when None)."""
    question, answer = record.get("multihop_question") or "", record.get("multihop_answer") or ""
    if not question or not answer:
        return None, "incomplete"
    if record.get("images"):
        return None, "image"
    if record.get("answer_source") == "code":
        want = expected_difference(question, _seeds(record))
        return (want, "") if want is not None else (None, "not_a_number")  # a verified choice names an option
    if not unverified:
        return None, "unverified"
    said = numbers(answer_head(answer) or answer)
    return (said[0], "") if len(said) == 1 else (None, "not_a_number")


def problem(record: Dict[str, Any], value: float, max_document_tokens: int = 1024) -> Dict[str, str]:
    """One GSM8K-layout row: document and question in `question`, the thinking and `#### <number>` in `answer`."""
    doc_label, q_label = LABELS.get(record.get("language") or "en", LABELS["en"])
    document = cut_to_budget((record.get("background_document") or "").strip(), max_document_tokens)[0]
    question = q_label + ("" if record.get("language") == "zh" else " ") + record["multihop_question"]
    text = f"{doc_label}\n{document}\n\n{question}" if document else record["multihop_question"]
    number = f"{value:g}" if abs(value) < 1e15 else str(value)
    working = (record.get("thinking") or "").strip()
    return {"question": text, "answer": (working + "\n" if working else "") + f"#### {number}"}


def write_set(records_path: str, out_dir: str, unverified: bool = False, limit: Optional[int] = None) -> Dict[str, int]:
    """Write `out_dir` (README header, main/test.jsonl, an empty main/train.jsonl); returns the counts: written, and
    left out by reason."""
    counts: Counter = Counter()
    rows = []
    for record in read_jsonl(records_path):
        value, why = numeric_answer(record, unverified)
        if value is None or (limit is not None and len(rows) >= limit):
            counts[f"left_out_{why or 'limit'}"] += 1
            continue
        rows.append(problem(record, value))
    os.makedirs(os.path.join(out_dir, "main"), exist_ok=True)
    with open(os.path.join(out_dir, "main", "test.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    open(os.path.join(out_dir, "main", "train.jsonl"), "w").close()  # no few-shot pool: few_shot_num 0
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(README)
    return {"written": len(rows), **dict(counts)}


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="mindgym-heldout", description=__doc__.split("\n\n")[0])
    ap.add_argument("records", help="MindGYM records (JSON lines, e.g. the export of recipes/mindgym_text.yaml)")
    ap.add_argument("--out", required=True, help="folder for the GSM8K-layout set")
    ap.add_argument("--unverified", action="store_true", help="also model-written answers that state one number")
    ap.add_argument("--limit", type=int, default=None, help="at most this many problems")
    args = ap.parse_args(argv)
    try:
        counts = write_set(args.records, args.out, args.unverified, args.limit)
    except (OSError, ValueError) as e:
        sys.exit(f"mindgym-heldout: {e}")
    if not counts["written"]:
        sys.exit(f"mindgym-heldout: no record of {args.records} has a numeric answer known to be right: {counts}")
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
