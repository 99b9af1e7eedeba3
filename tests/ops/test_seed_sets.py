"""The paper's image seed sets: OK-VQA (HF parquet) and ScienceQA's original release layout convert to rows the
image recipe runs on end to end, in the one row form every seed set shares."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import api_run_env, read_jsonl, run_dj
from mindgym_script import prompt_text
from seed_data import IMAGE_TYPE, okvqa_parquet, scienceqa_release
from test_image_pipeline import decoded, image_parts, image_recipe, pixels

from mindgym_ops import okvqa, scienceqa

ROW_TYPES = {
    "text": str,
    "query": str,
    "images": list,
    "question": str,
    "answer": str,
    "answers": list,
    "choices": list,
    "explanation": str,
    "lecture": str,
    "source": str,
}


def seed_recipe(tmp_path, jsonl):
    """The image recipe (its test copy) on a converted set: images are confined to the set's folder."""
    recipe = image_recipe(tmp_path, jsonl.parent)
    cfg = yaml.safe_load(recipe.read_text())
    cfg["dataset_path"] = str(jsonl)
    recipe.write_text(yaml.safe_dump(cfg))
    return recipe


def assert_seed_rows(rows):
    for r in rows:
        assert {k: type(v) for k, v in r.items()} == ROW_TYPES, r
        assert r["text"] == r["question"] and len(r["images"]) == 1 and r["answer"] in r["answers"]


def run_image_recipe(tmp_path, server, jsonl):
    """The image recipe through the real dj-process; every request must carry its own row's image."""
    rows = read_jsonl(jsonl)
    done = run_dj(seed_recipe(tmp_path, jsonl), api_run_env(server), cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-4000:]
    by_question = {r["question"]: pixels(r["images"][0]) for r in rows}
    seen = set()
    for body in server.stats.bodies:
        owner = [q for q in by_question if q in prompt_text(body)]
        parts = image_parts(body)
        if not owner:  # the judge's calibration anchors: text only
            assert not parts
            continue
        assert len(owner) == 1 and len(parts) == 1 and decoded(parts[0]) == by_question[owner[0]]
        seen.add(owner[0])
    assert seen == set(by_question)
    out = read_jsonl(tmp_path / "out" / "result.jsonl")
    assert len(out) == len(rows) and all(r["multihop_question"] and r["sub_questions"] for r in out)
    assert [json.loads(r["source"]) for r in out] == [json.loads(r["source"]) for r in rows]
    return out


def test_okvqa_converts_and_feeds_the_image_recipe(tmp_path, server, script):
    script.solve_every = 2
    counts = okvqa.convert(str(okvqa_parquet(tmp_path / "val2014-00000-of-00002.parquet")), str(tmp_path / "okvqa"))
    assert counts == {"kept": 3, "skipped_no_image": 1, "skipped_no_question": 1, "skipped_no_answer": 1,
                      "skipped_bad_image": 1}  # fmt: skip
    rows = read_jsonl(tmp_path / "okvqa" / "okvqa.jsonl")
    assert_seed_rows(rows)
    assert [r["answer"] for r in rows] == ["apple", "red", "tennis"]  # most frequent; a tie goes to the first given
    assert len(rows[0]["answers"]) == 10 and rows[0]["choices"] == [] and rows[0]["explanation"] == ""
    assert json.loads(rows[1]["source"]) == {
        "dataset": "ok-vqa",
        "file": "val2014-00000-of-00002.parquet",
        "row": 1,
        "question_id": "2971476",
        "question_type": "eight",
        "answer_type": "other",
    }
    # the shared COCO-style JPEG is stored once, byte for byte; the PNG too
    assert rows[0]["images"] == rows[1]["images"] and rows[0]["images"][0].endswith(".jpg")
    assert len(list((tmp_path / "okvqa" / "images").iterdir())) == 2
    run_image_recipe(tmp_path, server, tmp_path / "okvqa" / "okvqa.jsonl")


def test_scienceqa_release_layout_converts_and_feeds_the_image_recipe(tmp_path, server, script):
    script.solve_every = 2
    root = scienceqa_release(tmp_path / "scienceqa")
    counts = scienceqa.convert_release(str(root), str(tmp_path / "sqa"))
    assert counts == {"kept": 2, "skipped_no_image": 1, "skipped_bad_image": 0, "skipped_bad_answer": 1,
                      "skipped_image_file_missing": 1}  # fmt: skip
    rows = read_jsonl(tmp_path / "sqa" / "scienceqa.jsonl")
    assert_seed_rows(rows)
    assert [r["answer"] for r in rows] == ["the left one", "the right one"]
    assert rows[1]["explanation"].startswith("Magnet 7's pair") and rows[1]["lecture"].startswith("Magnets pull")
    problem = json.loads((root / "problems.json").read_text())["1"]
    metadata = ("task", "grade", "subject", "topic", "category", "skill")
    assert json.loads(rows[0]["source"]) == {
        "dataset": "scienceqa",
        "pid": "1",
        "split": "train",
        **{k: problem[k] for k in metadata},
    }
    run_image_recipe(tmp_path, server, tmp_path / "sqa" / "scienceqa.jsonl")


def test_scienceqa_release_splits_and_limit(tmp_path):
    root = scienceqa_release(tmp_path / "scienceqa")
    # a minival pid's image lies under images/val/
    assert scienceqa.convert_release(str(root), str(tmp_path / "mv"), "minival")["kept"] == 1
    assert read_jsonl(tmp_path / "mv" / "scienceqa.jsonl")[0]["question"] == "Which magnet 5 pulls harder?"
    assert scienceqa.convert_release(str(root), str(tmp_path / "one"), limit=1)["kept"] == 1
    with pytest.raises(ValueError, match=r"split must be one of \['minival', 'test', 'train', 'val'\]"):
        scienceqa.convert_release(str(root), str(tmp_path / "x"), "dev")
    with pytest.raises(ValueError, match="not a ScienceQA release folder: problems.json not found"):
        scienceqa.convert_release(str(tmp_path), str(tmp_path / "x"))


def test_every_seed_set_writes_one_row_form(tmp_path):
    """Rows from either ScienceQA layout and from OK-VQA have the same keys and types, so they mix in one dataset."""
    okvqa.convert(str(okvqa_parquet(tmp_path / "ok.parquet")), str(tmp_path / "mixed"))
    ok_rows = read_jsonl(tmp_path / "mixed" / "okvqa.jsonl")
    scienceqa.convert_release(str(scienceqa_release(tmp_path / "scienceqa")), str(tmp_path / "mixed"))
    sqa_rows = read_jsonl(tmp_path / "mixed" / "scienceqa.jsonl")
    assert_seed_rows(ok_rows + sqa_rows)
    pq.write_table(pa.table({"image": pa.array([None], IMAGE_TYPE), "question": ["q"]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"not an OK-VQA parquet, missing columns \['answers'\]"):
        okvqa.convert(str(tmp_path / "bad.parquet"), str(tmp_path / "x"))


def test_seed_rows_keep_chinese_text_as_utf8(tmp_path):
    import io

    from PIL import Image

    from mindgym_ops.seed_rows import SeedWriter

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    with SeedWriter(str(tmp_path), "zh") as writer:
        assert writer.add(png.getvalue(), "图中是什么颜色？", "红色", {"dataset": "测试"})
    text = (tmp_path / "zh.jsonl").read_text(encoding="utf-8")
    assert "图中是什么颜色？" in text and "\\u" not in text and text.endswith("}\n") and text.count("\n") == 1
    row = read_jsonl(tmp_path / "zh.jsonl")[0]
    assert_seed_rows([row])
    assert row["answer"] == "红色" and json.loads(row["source"]) == {"dataset": "测试"}
