"""Substance, measured on real weights: are the multi-hop questions multi-hop, and is the judge sighted?

Runs the generation ops, the judge and the solver in this process on the embedded model (the packaged
Qwen2.5-Coder-0.5B GGUF through llama.cpp; one engine shared by every op) and prints one line per figure:

- raw multi-hop replies that copy a seed, and rows that end with a real multi-hop question;
- judge separation: AUC of depth + breadth on tests/data/judge_anchors_en.json (8 one-fact, 8 multi-step);
- challenge uplift: solve rate of the seed questions against that of the multi-hop question built from
  them (same solver, k attempts, the background given with both);
- leak rate (replies whose thinking or question gives the answer away) and duplicate rate.

    python tests/benchmarks/bench_quality.py [--rows 8] [--k 4] [--cache DIR] [--language en|zh]

`--cache` keeps the request cache between runs (a rerun re-sends nothing that completed)."""

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from mindgym_ops.anchors import auc  # noqa: E402
from mindgym_ops.llm import client as llm_client  # noqa: E402
from mindgym_ops.llm import engines  # noqa: E402
from mindgym_ops.ops.rows import ROW_ID, columns_to_rows, numbered_row_id  # noqa: E402
from mindgym_ops.rules.checks import check_multihop  # noqa: E402
from mindgym_ops.rules.words import normalise  # noqa: E402

TARGETS = {"real_multihop": 0.5, "auc": 0.8, "uplift_points": 15}


def record_parses():
    """Count every multi-hop reply the model sends, with the reason it was refused (or not)."""
    seen = Counter()
    original = llm_client.parse_reply

    def parse(text, schema, finish_reason=None):
        parsed, err = original(text, schema, finish_reason)
        if getattr(schema, "__name__", "") == "MultiHop":
            seen["replies"] += 1
            if err is not None:
                seen["leak" if "answer" in err.message else f"schema_{err.kind.value}"] += 1
        return parsed, err

    llm_client.parse_reply = parse
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--show", action="store_true", help="print every refused multi-hop reply with its reason")
    ap.add_argument(
        "--language", choices=["en", "zh"], default="en", help="prompts, checks and anchors in this language"
    )
    a = ap.parse_args()
    from mindgym_ops.ops.mindgym_background_mapper import MindgymBackgroundMapper
    from mindgym_ops.ops.mindgym_depth_breadth_filter import MindgymDepthBreadthFilter
    from mindgym_ops.ops.mindgym_multihop_qa_mapper import MindgymMultihopQaMapper
    from mindgym_ops.ops.mindgym_seed_qa_mapper import MindgymSeedQaMapper
    from mindgym_ops.ops.mindgym_self_consistency_filter import MindgymSelfConsistencyFilter

    work = tempfile.mkdtemp(prefix="bench_quality_")
    common = dict(
        backend="local",
        model="qwen2.5-0.5b",
        cache_dir=a.cache or os.path.join(work, "cache"),
        work_dir=work,
        language=a.language,
    )
    t0 = time.time()
    # the recipe's sampling settings (recipes/mindgym_text.yaml)
    ops = [
        MindgymBackgroundMapper(
            sampling_params={"temperature": 0.8, "top_p": 0.95, "max_tokens": 320, "seed": 42}, **common
        ),
        MindgymSeedQaMapper(max_seeds=5, sampling_params={"temperature": 0.7, "max_tokens": 360, "seed": 42}, **common),
        MindgymMultihopQaMapper(sampling_params={"temperature": 0.7, "max_tokens": 500, "seed": 42}, **common),
    ]
    seen = record_parses()
    verdicts = Counter()  # every multi-hop reply that parsed, by substance verdict
    check = ops[2].check_reply

    def counted_check(step, row, parsed):
        found = check(step, row, parsed)
        failed = found.failure
        verdicts[failed[0] if failed else "real"] += 1
        if failed and a.show:
            seeds = [q["question"] for q in row["sub_questions"]]
            shown = {"refused": failed[0], "question": parsed.multihop_question, "seeds": seeds}
            print(json.dumps(shown, ensure_ascii=False), flush=True)
        return found

    ops[2].check_reply = counted_check
    samples = {"text": [""] * a.rows, ROW_ID: [numbered_row_id(i) for i in range(a.rows)]}
    for op in ops:
        samples = op.process_batched(samples)
        print(f"{op._name}: {len(samples[ROW_ID])} rows left after {time.time() - t0:.0f} s", flush=True)
    rows = columns_to_rows(samples)
    multihop = ops[2].counters.to_dict()
    seeded = ops[1].counters.to_dict()["kept"]

    copies = verdicts["copies_seed"]
    exported_copies = sum(
        check_multihop(
            r["multihop_question"], r["multihop_answer"], r["thinking"], r["sub_questions"], None, a.language
        )
        is not None
        for r in rows
    )

    # the judge on the anchor set
    judge = MindgymDepthBreadthFilter(calibrate=True, **common)
    anchors = json.load(open(os.path.join(HERE, "..", "data", f"judge_anchors_{a.language}.json")))
    items = [
        {"multihop_question": x["question"], "multihop_answer": x["answer"]}
        for lvl in ("shallow", "deep")
        for x in anchors[lvl]
    ]
    res = judge.ask([(f"bench-anchor{i}", judge.request("judge", item, {})) for i, item in enumerate(items)])
    scores = [r.parsed.depth + r.parsed.breadth if r.ok else None for (r,) in res]
    n = len(anchors["shallow"])
    shallow, deep = [s for s in scores[:n] if s is not None], [s for s in scores[n:] if s is not None]
    calibration = judge.calibration()

    # challenge uplift: the same solver on each seed and on the multi-hop question, background given
    solver = MindgymSelfConsistencyFilter(k=a.k, sampling_params={"max_tokens": 256}, **common)
    probes, owners = [], []
    for i, r in enumerate(rows):
        for j, q in enumerate(
            [*r["sub_questions"], {"question": r["multihop_question"], "answer": r["multihop_answer"]}]
        ):
            label = "问题：" if a.language == "zh" else "Question: "
            text = f"{r['background_document']}\n\n{label}{q['question']}"
            probes.append({"multihop_question": text, "multihop_answer": q["answer"], ROW_ID: f"{r[ROW_ID]}-q{j}"})
            owners.append((i, j == len(r["sub_questions"])))
    solved = solver.judge_rows(probes) if probes else []
    seed_rates, hop_rates = [], []
    for (i, is_hop), st in zip(owners, solved):
        rate = st["mindgym_solve_rate"]
        if rate >= 0:
            (hop_rates if is_hop else seed_rates).append(rate)

    questions = [normalise(r["multihop_question"]) for r in rows]
    dup = len(questions) - len(set(questions))
    replies = max(1, seen["replies"])
    real = len(rows) / a.rows
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    uplift = 100 * (mean(seed_rates) - mean(hop_rates))
    judge_auc = auc(shallow, deep)
    print(f"rows: {a.rows} in, {seeded} with seeds, {len(rows)} with a multi-hop question ({time.time() - t0:.0f} s)")
    print(f"multi-hop replies: {seen['replies']}; refused for copying a seed: {copies} = {copies / replies:.0%}")
    print(
        f"substance verdicts of the parsed replies: {json.dumps(dict(verdicts))}; rows dropped by reason: "
        f"{json.dumps(multihop['dropped'])}"
    )
    print(f"rows that end with a real multi-hop question: {real:.0%} (target >= {TARGETS['real_multihop']:.0%})")
    print(f"exported multi-hop questions that copy a seed or fail a substance check: {exported_copies}")
    print(
        f"judge AUC of depth+breadth on 8 one-fact vs 8 multi-step anchors: {judge_auc:.2f} "
        f"(target >= {TARGETS['auc']}); shallow {shallow}, deep {deep}"
    )
    print(f"judge calibration probe (built-in anchors): {json.dumps(calibration)}")
    print(
        f"solve rate, k={a.k}: seed questions {mean(seed_rates):.2f} (n={len(seed_rates)}), multi-hop "
        f"{mean(hop_rates):.2f} (n={len(hop_rates)}): uplift {uplift:.0f} points (target >= {TARGETS['uplift_points']})"
    )
    print(
        f"leak rate (thinking or question gives the answer away): {seen['leak'] / replies:.0%} "
        f"of {seen['replies']} replies"
    )
    print(f"duplicate rate among multi-hop questions: {dup / max(1, len(rows)):.0%}")
    print(f"engines loaded: {engines.loads()}; wall {time.time() - t0:.0f} s")
    print(
        json.dumps(
            {
                "real_multihop": round(real, 3),
                "auc": round(judge_auc, 3),
                "uplift_points": round(uplift, 1),
                "copy_share": round(copies / replies, 3),
                "leak_share": round(seen["leak"] / replies, 3),
                "duplicate_share": round(dup / max(1, len(rows)), 3),
            }
        )
    )
    for r in rows:
        print(
            json.dumps(
                {
                    "seeds": [q["question"] for q in r["sub_questions"]],
                    "multihop": r["multihop_question"],
                    "answer": r["multihop_answer"][:120],
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
