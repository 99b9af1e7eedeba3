"""Image rows: the image really reaches the model, bad images are counted, ScienceQA converts."""

import base64
import io
import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from helpers import ROOT, api_run_env, read_jsonl, recipe_copy, run_dj
from mindgym_script import prompt_text
from PIL import Image

from mindgym_ops.anchors import ANCHORS
from mindgym_ops.scienceqa import convert

ANCHOR_QUESTIONS = [q for lang in ANCHORS.values() for level in lang.values() for q, _ in level]

DIAGRAMS = ROOT / "mindgym_ops" / "data" / "diagrams"


def image_parts(body):
    return [
        p
        for m in body["messages"]
        if isinstance(m["content"], list)
        for p in m["content"]
        if p.get("type") == "image_url"
    ]


def decoded(part):
    data = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").tobytes()


def pixels(path):
    with Image.open(path) as im:
        return im.convert("RGB").tobytes()


def image_dataset(tmp_path, extra_rows=()):
    data = tmp_path / "data"
    data.mkdir()
    rows = []
    for line in (DIAGRAMS / "diagrams.jsonl").read_text().splitlines():
        row = json.loads(line)
        shutil.copy(DIAGRAMS / row["images"][0], data / row["images"][0])
        rows.append(row)
    rows += list(extra_rows)
    (data / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data, rows


def image_recipe(tmp_path, data, name="mindgym_image.yaml"):
    recipe = recipe_copy(name, tmp_path)
    cfg = yaml.safe_load(recipe.read_text())
    cfg["dataset_path"] = str(data / "rows.jsonl")
    for step in cfg["process"]:
        for args in step.values():
            if isinstance(args, dict) and "image_root" in args:
                args["image_root"] = str(data)
    recipe.write_text(yaml.safe_dump(cfg))
    return recipe


def test_every_image_request_carries_its_rows_image_and_text_rows_carry_none(tmp_path, server, script):
    script.solve_every = 2  # right on half the attempts: inside the self-consistency band
    text_row = {
        "query": "",
        "images": [],
        "text": "Halden exchange",
        "question": "",
        "answer": "",
        "background_document": "Halden text row: in 1847 the port opened a grain exchange.",
    }
    data, rows = image_dataset(tmp_path, [text_row])
    done = run_dj(image_recipe(tmp_path, data), api_run_env(server), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-4000:]
    out = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(out) == len(rows)
    image_rows = [r for r in rows if r["images"]]
    by_snippet = {r["question"][:40]: pixels(data / r["images"][0]) for r in image_rows}
    seen_with_image = set()
    for body in server.stats.bodies:
        text = prompt_text(body)
        owner = [s for s in by_snippet if s in text]
        parts = image_parts(body)
        if "Halden text row" in text or any(q in text for q in ANCHOR_QUESTIONS):
            assert not parts and not owner  # the text row, and the judge's calibration anchors: text only
            continue
        assert len(owner) == 1, text[:300]
        assert len(parts) == 1 and decoded(parts[0]) == by_snippet[owner[0]]
        seen_with_image.add(owner[0])
    assert seen_with_image == set(by_snippet)  # every image row's requests were checked
    steps = {"seed_qa", "multihop", "judge", "solve", "agree"}
    assert steps <= set(server.responder.seen)
    assert {r["relationship_category"] for r in out if r["images"]} <= {
        "Visual-Textual Alignment",
        "Spatial Reasoning",
        "Causal Inference",
        "Contextual Synthesis",
    }
    assert all(r["images"] and r["images"][0].startswith(str(data)) for r in out if r["question"])


def test_bad_images_are_counted_not_crashed(tmp_path, server, script):
    script.solve_every = 2
    data, rows = image_dataset(tmp_path)
    (data / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(data / "huge.png")  # noise: ~270 KB
    outside = tmp_path / "outside.png"
    Image.new("RGB", (10, 10), "white").save(outside)
    bad = [
        {
            "query": "",
            "images": [name],
            "text": f"bad {name}",
            "question": f"Bad image {name}?",
            "answer": "x",
            "explanation": "",
        }
        for name in ("missing.png", "corrupt.png", "huge.png")
    ]
    bad.append(
        {
            "query": "",
            "images": [str(outside)],
            "text": "outside",
            "question": "Outside?",
            "answer": "x",
            "explanation": "",
        }
    )
    data, _ = data, None
    (data / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows + bad))
    recipe = image_recipe(tmp_path, data)
    cfg = yaml.safe_load(recipe.read_text())
    cfg["process"][0]["mindgym_seed_qa_mapper"]["model_params"]["max_image_bytes"] = 20_000
    recipe.write_text(yaml.safe_dump(cfg))
    done = run_dj(recipe, api_run_env(server), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-4000:]
    summary = [ln.split(" - ", 1)[-1] for ln in done.stderr.splitlines() if "mindgym_seed_qa_mapper: " in ln]
    assert summary and summary[0].startswith(
        "mindgym_seed_qa_mapper: 8 rows in, kept 4, dropped 4 (seed_qa_image: 4)"
    ), summary
    assert len(read_jsonl(tmp_path / "out" / "result.jsonl")) == 4


def scienceqa_parquet(path, n=6):
    def png(color):
        buf = io.BytesIO()
        Image.new("RGB", (24, 16), color).save(buf, format="PNG")
        return buf.getvalue()

    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    images = [{"bytes": png((40 * i, 0, 0)), "path": None} if i % 3 else None for i in range(n)]
    table = pa.table(
        {
            "image": pa.array(images, type=image_type),
            "question": [f"Which is heavier, box {i}?" for i in range(n)],
            "choices": [["box A", "box B"]] * n,
            "answer": pa.array([i % 2 for i in range(n)], type=pa.int8()),
            "hint": [""] * n,
            "task": ["closed choice"] * n,
            "grade": ["grade3"] * n,
            "subject": ["natural science"] * n,
            "topic": ["physics"] * n,
            "category": ["Weight"] * n,
            "skill": ["Compare"] * n,
            "lecture": ["Mass is measured in grams."] * n,
            "solution": [f"Box {i} has more mass." for i in range(n)],
        }
    )
    pq.write_table(table, path)


def test_scienceqa_loader_and_image_recipe_end_to_end(tmp_path, server, script):
    script.solve_every = 2
    scienceqa_parquet(tmp_path / "train.parquet")
    counts = convert(str(tmp_path / "train.parquet"), str(tmp_path / "sqa"))
    assert counts == {"kept": 4, "skipped_no_image": 2, "skipped_bad_image": 0, "skipped_bad_answer": 0}
    rows = read_jsonl(tmp_path / "sqa" / "scienceqa.jsonl")
    assert rows[0]["answer"] == "box B" and rows[0]["explanation"] == "Box 1 has more mass."
    recipe = recipe_copy("mindgym_image.yaml", tmp_path)
    cfg = yaml.safe_load(recipe.read_text())
    cfg["dataset_path"] = str(tmp_path / "sqa" / "scienceqa.jsonl")
    for step in cfg["process"]:
        for args in step.values():
            if isinstance(args, dict) and "image_root" in args:
                args["image_root"] = str(tmp_path / "sqa")
    recipe.write_text(yaml.safe_dump(cfg))
    done = run_dj(recipe, api_run_env(server), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-4000:]
    out = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(out) == 4 and all(r["multihop_question"] and r["images"] for r in out)
