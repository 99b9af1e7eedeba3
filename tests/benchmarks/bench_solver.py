"""The self-consistency solver on fixed rows: how often it is right, and how many rows land in the band.

`tests/data/solver_rows_en.jsonl` holds the 10 rows that reached the self-consistency filter in three main
jobs on the packaged Qwen2.5-Coder-0.5B (seeds 42, 7 and 1234, the band opened to 0-1): their question,
reference, background and seeds. Each row is solved k times, as the filter does (its `solve` prompt, the
background given, temperature 0.8), and every attempt is scored by the filter's rule (`rule`: a normalised
match, the option named, the difference of two seed answers); an attempt the rule cannot decide is counted
as undecided (the filter would ask its agreement judge). Prints one line per row and the totals.

`--mode free` asks for plain-text working that ends with an "Answer:" line, no JSON grammar; `--mode steps` asks
as evalscope's gsm8k does ("Please reason step by step, and put your final answer within \\boxed{}"), the
document in front of the question, and reads the boxed answer (else the last number). `--temperature 0` is
greedy (one attempt per row is enough). `--model` takes a packaged model name or a GGUF path (for a solver one
size up: Qwen2.5-Coder-1.5B-Instruct Q4_K_M). `--rows` takes other rows or MindGYM records (JSON lines with the
question and answer as `query`/`response` or `multihop_question`/`multihop_answer`, `background_document` and
`sub_questions`), e.g. an export of the main job; `--spans N` solves the loop's second held-out set instead (N
year spans over invented reports, made by code).

    python tests/benchmarks/bench_solver.py [--k 8] [--mode json|free|steps] [--temperature 0.8]
        [--model qwen2.5-0.5b | path.gguf] [--rows FILE | --spans 40]"""

import argparse
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from mindgym_ops.llm import LLM, ErrorKind, LLMError, TextSchema  # noqa: E402
from mindgym_ops.prompts import load_template  # noqa: E402
from mindgym_ops.rules.answers import verdict  # noqa: E402
from mindgym_ops.schemas import Solution  # noqa: E402

ROWS = os.path.join(ROOT, "tests", "data", "solver_rows_en.jsonl")
FREE = (
    "Work it out briefly: quote each fact you need from the text, write out any arithmetic, then end with one "
    "line: Answer: <your final answer, as short as possible>"
)


STEPS = "Please reason step by step, and put your final answer within \\boxed{}."


class AnswerLine(TextSchema):
    """Plain-text working that ends with "Answer: ...", read as a Solution."""

    def validate(self, text, finish_reason):
        head, found, tail = (text or "").rpartition("Answer:")
        answer = tail.strip().splitlines()[0].strip() if found and tail.strip() else ""
        if not answer:
            kind = ErrorKind.TRUNCATED if finish_reason == "length" else ErrorKind.VALIDATION
            raise LLMError(kind, "no 'Answer:' line")
        return Solution(reasoning=head.strip()[-1500:], answer=answer)


class Boxed(TextSchema):
    """Free working as evalscope's gsm8k prompt asks for it: the answer in \\boxed{}, else the last number."""

    def validate(self, text, finish_reason):
        boxed = re.findall(r"\\boxed\{([^{}]*)\}", text or "")
        numbers = re.findall(r"-?\d[\d,]*(?:\.\d+)?", text or "")
        answer = boxed[-1] if boxed else (numbers[-1] if numbers else "")
        if not answer.strip():
            kind = ErrorKind.TRUNCATED if finish_reason == "length" else ErrorKind.VALIDATION
            raise LLMError(kind, "no answer")
        return Solution(reasoning=(text or "")[-1500:], answer=answer.strip())


def span_rows(n):
    """The loop's second held-out set as solver rows: N year spans over invented reports, the answer worked out by
    code (tests/benchmarks/_spans.py, the same seed)."""
    import random

    from _spans import span_problem

    rng, rows = random.Random(2026), []
    for i in range(n):
        p = span_problem(rng)
        document, question = p["question"].split("\n\nQuestion: ")
        rows.append(
            {
                "query": question,
                "response": p["answer"].rsplit("#### ", 1)[1],
                "background_document": document[len("Document:\n") :],
                "sub_questions": [],
                "mindgym_row_id": f"span{i}",
                "main_job_seed": "spans",
            }
        )
    return rows


def load_rows(path):
    """Rows with `query`, `response`, `background_document`, `sub_questions` (records are mapped to them)."""
    rows = []
    for n, line in enumerate(open(path, encoding="utf-8")):
        r = json.loads(line)
        r.setdefault("query", r.get("multihop_question"))
        r.setdefault("response", r.get("multihop_answer"))
        r.setdefault("main_job_seed", os.path.basename(os.path.dirname(os.path.dirname(path))) or "-")
        r.setdefault("mindgym_row_id", f"row{n}")
        rows.append(r)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--mode", choices=["json", "free", "steps"], default="json")
    ap.add_argument("--temperature", type=float, default=0.8, help="the filter's solver_temperature; 0: greedy")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--rows", default=ROWS)
    ap.add_argument("--spans", type=int, default=0, help="instead: N year-span problems made by code (_spans.py)")
    args = ap.parse_args()
    rows = span_rows(args.spans) if args.spans else load_rows(args.rows)
    template = load_template("solve", "en", ("question", "context"))
    prompts = [template.render(question=r["query"], context=r["background_document"]) for r in rows]
    if args.mode == "free":
        prompts = [p[: p.rindex("Reply with JSON only")] + FREE for p in prompts]
    if args.mode == "steps":  # as the held-out set and evalscope's gsm8k prompt put it
        prompts = [f"Document:\n{r['background_document']}\n\nQuestion: {r['query']}\n{STEPS}" for r in rows]
    schema = {"json": Solution, "free": AnswerLine("AnswerLine", 0), "steps": Boxed("Boxed", 0)}[args.mode]
    llm = LLM(backend="local", model=args.model, sampling_params={"max_tokens": args.max_tokens}, try_num=2)
    conversations = [[{"role": "user", "content": p}] for p in prompts for _ in range(args.k)]
    keys = [f"{r['mindgym_row_id']}@{r['main_job_seed']}#{j}@{args.temperature}" for r in rows for j in range(args.k)]
    started = time.time()
    replies = llm.chat_batch(conversations, {"temperature": args.temperature}, schema, keys=keys)
    wall = time.time() - started
    right = undecided = failed = in_band = 0
    for i, row in enumerate(rows):
        marks = []
        for res in replies[i * args.k : (i + 1) * args.k]:
            if not res.ok:
                marks.append("x")
                continue
            said = verdict(row["query"], row["response"], res.parsed.answer, row.get("sub_questions") or [])
            marks.append({True: "+", False: "-", None: "?"}[said])
        solved = marks.count("+")
        right, undecided, failed = right + solved, undecided + marks.count("?"), failed + marks.count("x")
        in_band += 0 < solved < args.k
        print(f"  {row['main_job_seed']:>8} {solved}/{args.k} {''.join(marks)}  {row['query'][:90]}")
    n = args.k * len(rows)
    print(f"model {args.model}, mode {args.mode}, temperature {args.temperature:g}, k {args.k}: right {right} of {n}, "
          f"undecided {undecided}, no answer {failed}; rows solved 1 to k-1 times (the band): "
          f"{in_band} of {len(rows)}")  # fmt: skip
    print(f"wall {wall:.0f} s; tokens prompt {llm.usage.prompt_tokens} + completion {llm.usage.completion_tokens}")


if __name__ == "__main__":
    main()
