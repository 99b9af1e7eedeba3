"""The text recipes through the real dj-process against the loopback server."""

import json
import re
from collections import Counter

import pyarrow.json as paj
import pytest
from helpers import ROOT, SECRET, api_run_env, read_jsonl, recipe_copy, run_dj
from mindgym_script import user_text

from mindgym_ops.anchors import ANCHORS
from mindgym_ops.schemas import CATEGORIES, TEXT_PRINCIPLES

RECORD_TYPES = {
    "background_document": str,
    "reasoning_category": str,
    "sub_questions": list,
    "relationship_category": str,
    "multihop_question": str,
    "multihop_answer": str,
    "thinking": str,
    "language": str,
    "query": str,
    "response": str,
}


def solve_half(script):
    """A scripted solver that is right on every other attempt (solve rate 2/4: inside the band)."""
    calls = Counter()

    def solve(body):
        q = user_text(body)
        calls[q] += 1
        return json.dumps({"answer": "The following Thursday" if calls[q] % 2 else "Monday"})

    def agree(body):
        lines = [ln for ln in user_text(body).splitlines() if ln[:1].isdigit()]
        return json.dumps({"verdicts": ["Thursday" in ln for ln in lines]})

    script.overrides.update(solve=solve, agree=agree)


def test_64_rows_from_scratch_cover_areas_principles_and_schema(tmp_path, server, script):
    solve_half(script)
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=64, np=2)
    done = run_dj(recipe, api_run_env(server))
    assert done.returncode == 0, done.stderr[-4000:]
    out = tmp_path / "out" / "result.jsonl"
    rows = read_jsonl(out)
    # the scripted multi-hop question embeds a per-row number, so dedup keeps distinct questions
    assert len(rows) == 64
    assert Counter(r["reasoning_category"] for r in rows) == {c: 8 for c in CATEGORIES}
    assert {r["relationship_category"] for r in rows} <= set(TEXT_PRINCIPLES)
    for r in rows:
        for key, typ in RECORD_TYPES.items():
            assert isinstance(r[key], typ) and r[key], (key, r.get(key))
        assert r["query"] == r["multihop_question"] and r["response"] == r["multihop_answer"]
        assert all(set(q) == {"question", "answer"} for q in r["sub_questions"])
        meta = r["__dj__meta__"]
        prov = json.loads(meta["mindgym_multihop"])
        assert prov["backend"] == "api" and prov["model"] == "fake" and prov["row_id"] == r["mindgym_row_id"]
        assert prov["templates"][0].startswith("multihop_qa@") and prov["usage"]["prompt_tokens"] > 0
    table = paj.read_json(out)  # stable types: Arrow reads the whole file with one schema
    assert table.num_rows == 64
    assert str(table.schema.field("sub_questions").type) == "list<item: struct<question: string, answer: string>>"
    stats = read_jsonl(tmp_path / "out" / "result_stats.jsonl")
    assert all(1 <= s["__dj__stats__"]["mindgym_depth"] <= 5 for s in stats)
    assert all(s["__dj__stats__"]["mindgym_solve_rate"] == 0.5 for s in stats)
    # the secret never lands in outputs, caches or the work dir
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    assert SECRET not in done.stdout + done.stderr
    # per-op summary lines and the request count: 9 calls per record (bg, seed, multihop, judge, 4 solves, agree),
    # plus the judge's calibration anchors, scored once per run
    assert "mindgym_seed_qa_mapper: 64 rows in, kept 64, dropped 0" in done.stderr
    anchor_questions = [q for level in ANCHORS["en"].values() for q, _ in level]
    anchors = sum(any(q in user_text(b) for q in anchor_questions) for b in server.stats.bodies)
    assert anchors == 6  # np 2: the worker processes share one calibration through the run's counts folder
    assert server.stats.requests == 64 * 9 + anchors


def test_zh_recipe_sends_chinese_prompts(tmp_path, server, script):
    solve_half(script)
    recipe = recipe_copy("mindgym_text_zh.yaml", tmp_path, length=8)
    done = run_dj(recipe, api_run_env(server))
    assert done.returncode == 0, done.stderr[-4000:]
    rows = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(rows) == 8 and all(r["language"] == "zh" for r in rows)
    users = [user_text(b) for b in server.stats.bodies]
    assert users and all(any("\u4e00" <= ch <= "\u9fff" for ch in u) for u in users)
    assert any("虚构短报告" in u for u in users) and any("单跳问题" in u for u in users)


def test_ops_mix_with_data_juicer_builtins_in_one_call(tmp_path, server, script):
    solve_half(script)
    recipe = recipe_copy("mindgym_from_corpus.yaml", tmp_path)
    import yaml

    cfg = yaml.safe_load(recipe.read_text())
    cfg["process"].insert(0, {"text_length_filter": {"min_len": 300}})
    cfg["process"].insert(4, {"document_minhash_deduplicator": {"text_key": "query", "tokenization": "space"}})
    recipe.write_text(yaml.safe_dump(cfg))
    done = run_dj(recipe, api_run_env(server))
    assert done.returncode == 0, done.stderr[-4000:]
    rows = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert rows and all(len(r["text"]) >= 300 for r in rows)
    # corpus mode: the background is the row's own text, no model call for it
    assert all(r["background_document"] == r["text"] for r in rows)
    assert all(json.loads(r["__dj__meta__"]["mindgym_background"])["mode"] == "corpus" for r in rows)
    corpus = read_jsonl(ROOT / "mindgym_ops" / "data" / "sample_corpus.jsonl")
    long_enough = sum(len(r["text"]) >= 300 for r in corpus)
    assert 0 < long_enough < len(corpus)  # the built-in filter really removed rows
    assert script.seen["background"] == 0 and script.seen["seed_qa"] == long_enough


def test_recipe_with_the_old_failure_names_still_runs(tmp_path, server, script):
    """`on_judge_failure: keep` (the filters' old name) still runs, and means `on_failure: flag`."""
    import yaml

    solve_half(script)
    script.overrides["judge"] = lambda body: "I refuse to rate this."
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=4)
    cfg = yaml.safe_load(recipe.read_text())
    renamed = 0
    for step in cfg["process"]:
        for name, args in step.items():
            if name.endswith("_filter") and args.pop("on_failure", None) is not None:
                args["on_judge_failure"] = "keep"
                renamed += 1
    assert renamed == 2
    recipe.write_text(yaml.safe_dump(cfg))
    done = run_dj(recipe, api_run_env(server))
    assert done.returncode == 0, done.stderr[-4000:]
    rows = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(rows) == 4  # the judge failed on every row, and keep kept (flagged) each one
    stats = read_jsonl(tmp_path / "out" / "result_stats.jsonl")
    assert [s["__dj__stats__"]["mindgym_depth"] for s in stats] == [-1.0] * 4
    assert all(s["__dj__stats__"]["mindgym_solve_rate"] == 0.5 for s in stats)  # the solver still ran
    assert (
        "mindgym_depth_breadth_filter: 4 rows in, kept 4, dropped 0 (none), flagged (mindgym_depth_judge_failed: 4)"
        in (done.stderr)
    )


@pytest.mark.parametrize("np_", [1, 2])
def test_open_tracer_shows_the_rows_a_mapper_dropped_and_why(tmp_path, server, script, np_):
    """Data-Juicer's tracer (`open_tracer: true`) pairs a batched mapper's n-th row in with its n-th row out, and
    failed with an IndexError on a mapper that drops rows. Every row the multi-hop op drops is traced, with its
    reason; the export and the trace together account for every row."""
    solve_half(script)
    copied = script._multihop

    def multihop(body):  # rows whose town number is odd copy a seed question, on every try
        if int(re.search(r"Vell(\d+)", user_text(body)).group(1)) % 2:
            return json.dumps(
                {
                    "thinking": "Look up who measured on Monday.",
                    "multihop_question": "Who measured the units on Monday?",
                    "multihop_answer": "Mara Quist.",
                }
            )
        return copied(body)

    script.overrides["multihop"] = multihop
    recipe = recipe_copy("mindgym_text.yaml", tmp_path, length=8, np=np_, open_tracer=True)
    done = run_dj(recipe, api_run_env(server))
    assert done.returncode == 0, done.stderr[-4000:]
    kept = {r["mindgym_row_id"] for r in read_jsonl(tmp_path / "out" / "result.jsonl")}
    (job,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    traced = read_jsonl(job / "trace" / "sample_trace-mindgym_multihop_qa_mapper.jsonl")
    assert traced and kept  # both kinds of row exist in this run
    for row in traced:
        assert row["__dj__meta__"]["mindgym_failure"] == "mindgym_multihop_qa_mapper:multihop_copies_seed"
        assert row["sub_questions"] and row["background_document"]  # what the op was given
        refused = json.loads(row["__dj__meta__"]["mindgym_multihop"])["refused"]  # what the model last wrote
        assert refused["reason"] == "copies_seed" and "repeats single-hop question 1" in refused["message"]
        assert json.loads(refused["reply"])["multihop_question"] == "Who measured the units on Monday?"
    dropped = {r["mindgym_row_id"] for r in traced}
    assert len(dropped) == len(traced) and not dropped & kept
    assert dropped | kept == {f"r{i}" for i in range(8)}
    assert "mindgym_multihop_qa_mapper: 8 rows in, kept %d, dropped %d" % (len(kept), len(dropped)) in done.stderr
