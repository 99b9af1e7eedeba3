"""Depth/breadth win rate (the paper's GPT-judged metric): a judge compares the base model's and a
tuned model's answers to the same questions, per dimension, in both orders of presentation. A win
needs both orders to prefer the tuned answer, a loss both to prefer the base; anything else is a tie
(position bias cancels out). Reasons are kept."""

import json
import os
from typing import Any, Dict, List, Sequence

from mindgym_ops.llm import LLM
from mindgym_ops.prompts import load_template
from mindgym_ops.schemas import PairwiseVerdict

from .common import read_jsonl
from .eval_config import EvalConfig

DIMENSIONS = ("depth", "breadth")


def win_rate(
    judge: LLM,
    questions: Sequence[str],
    base_answers: Sequence[str],
    tuned_answers: Sequence[str],
    language: str = "en",
) -> Dict[str, Any]:
    template = load_template("judge_pairwise", language, ("dimension", "question", "answer_a", "answer_b"))
    convs, keys, index = [], [], []
    for i, (q, base, tuned) in enumerate(zip(questions, base_answers, tuned_answers)):
        for dim in DIMENSIONS:
            for order, (a, b) in (("tuned_first", (tuned, base)), ("base_first", (base, tuned))):
                text = template.render(dimension=dim, question=q, answer_a=a, answer_b=b)
                convs.append([{"role": "user", "content": text}])
                keys.append(f"q{i}:{dim}:{order}")
                index.append((i, dim, order))
    results = judge.chat_batch(
        convs, sampling={"temperature": 0.0, "max_tokens": 150}, schema=PairwiseVerdict, keys=keys
    )
    votes: Dict[tuple, Dict[str, Any]] = {}
    for (i, dim, order), res in zip(index, results):
        if res.ok:
            w = res.parsed.winner
            pick = "tie" if w == "tie" else ("tuned" if (w == "A") == (order == "tuned_first") else "base")
            votes[(i, dim, order)] = {"pick": pick, "reason": res.parsed.reason}
        else:
            votes[(i, dim, order)] = {"pick": "tie", "reason": f"judge failed: {res.error.kind.value}"}
    summary: Dict[str, Any] = {}
    records: List[Dict[str, Any]] = []
    for dim in DIMENSIONS:
        counts = {"win": 0, "tie": 0, "loss": 0}
        for i in range(len(questions)):
            first, second = votes[(i, dim, "tuned_first")], votes[(i, dim, "base_first")]
            picks = {first["pick"], second["pick"]}
            outcome = "win" if picks == {"tuned"} else "loss" if picks == {"base"} else "tie"
            counts[outcome] += 1
            records.append(
                {"question": i, "dimension": dim, "outcome": outcome, "tuned_first": first, "base_first": second}
            )
        n = max(1, len(questions))
        summary[dim] = {
            **counts,
            "win_rate": counts["win"] / n,
            "win_rate_ties_half": (counts["win"] + 0.5 * counts["tie"]) / n,
        }
    return {"summary": summary, "records": records}


def run_winrate(cfg: EvalConfig) -> Dict[str, Any]:
    """Generate answers from the configured base and tuned models, judge them, write winrate.json/.md."""
    w = cfg.winrate
    names = {m.name: m for m in cfg.models}
    questions = [row[w.question_key] for row in read_jsonl(w.questions)]
    answers = {}
    for role, name in (("base", w.base), ("tuned", w.tuned)):
        llm = LLM(
            backend=w.answer_backend,
            model=names[name].path,
            model_params=w.answer_model_params,
            sampling_params={"temperature": 0.0, "max_tokens": w.max_tokens},
        )
        res = llm.chat_batch(
            [[{"role": "user", "content": q}] for q in questions],
            try_num=1,
            keys=[f"{role}:{i}" for i in range(len(questions))],
        )
        answers[role] = [r.text or "" for r in res]
    judge = LLM(backend=w.judge.backend, model=w.judge.model, model_params=w.judge.model_params)
    out = win_rate(judge, questions, answers["base"], answers["tuned"], w.language)
    path = os.path.join(cfg.output_dir, "winrate.json")
    os.makedirs(cfg.output_dir, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**out, "answers": answers}, f, ensure_ascii=False, indent=1)
    with open(os.path.join(cfg.output_dir, "winrate.md"), "w") as f:
        f.write("| dimension | win | tie | loss | win rate |\n|---|---|---|---|---|\n")
        for dim, s in out["summary"].items():
            f.write(f"| {dim} | {s['win']} | {s['tie']} | {s['loss']} | {100 * s['win_rate']:.1f}% |\n")
    return out
