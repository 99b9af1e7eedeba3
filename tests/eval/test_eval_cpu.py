"""evalscope for real on CPU: two tiny Qwen2.5-VL checkpoints, each served by `swift deploy` (started
and always stopped by the runner), on local gsm8k- and mm_star-format datasets built here."""

import io
import json
import os

import datasets
import psutil
import pytest
import yaml
from helpers import ROOT
from mindgym_train.evaluate import main
from PIL import Image, ImageDraw
from tiny_models import build_tiny_qwen25_vl

pytestmark = pytest.mark.slow


def gsm8k_local(root):
    d = root / "gsm8k_local"
    (d / "main").mkdir(parents=True)
    for split in ("test", "train"):
        with open(d / "main" / f"{split}.jsonl", "w") as f:
            for i in range(3):
                f.write(
                    json.dumps(
                        {
                            "question": f"Tom has {i} apples and buys 2 more. How many?",
                            "answer": f"{i} + 2 = {i + 2}\n#### {i + 2}",
                        }
                    )
                    + "\n"
                )
    (d / "README.md").write_text(
        "---\nconfigs:\n- config_name: main\n  data_files:\n  - split: test\n"
        "    path: main/test.jsonl\n  - split: train\n    path: main/train.jsonl\n---\n"
    )
    return d


def mmstar_local(root):
    rows = {k: [] for k in ("index", "question", "image", "answer", "category", "l2_category", "meta_info")}
    for i, (color, letter) in enumerate([("red", "A"), ("blue", "B"), ("green", "C")]):
        im = Image.new("RGB", (56, 56), "white")
        ImageDraw.Draw(im).rectangle([8, 8, 48, 48], fill=color)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        rows["index"].append(i)
        rows["question"].append("What color is the square?\nOptions: A: red, B: blue, C: green, D: yellow")
        rows["image"].append({"bytes": buf.getvalue(), "path": None})
        rows["answer"].append(letter)
        rows["category"].append("coarse perception")
        rows["l2_category"].append("color")
        rows["meta_info"].append({"source": "synthetic", "split": "val", "image_path": f"{color}.png"})
    feats = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "image": datasets.Image(),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
            "l2_category": datasets.Value("string"),
            "meta_info": {
                "source": datasets.Value("string"),
                "split": datasets.Value("string"),
                "image_path": datasets.Value("string"),
            },
        }
    )
    d = root / "mmstar_local"
    d.mkdir()
    datasets.Dataset.from_dict(rows, features=feats).to_parquet(str(d / "val.parquet"))
    (d / "README.md").write_text(
        "---\nconfigs:\n- config_name: val\n  data_files:\n  - split: val\n" "    path: val.parquet\n---\n"
    )
    return d


def test_two_tiny_checkpoints_on_gsm8k_and_mm_star(tmp_path, capsys):
    base = build_tiny_qwen25_vl(str(tmp_path / "base"), seed=0)
    tuned = build_tiny_qwen25_vl(str(tmp_path / "tuned"), seed=1)
    cfg = {
        "output_dir": str(tmp_path / "eval"),
        "base_model": base,
        "models": [{"name": "stage4", "path": tuned}],
        "text_eval": "served",
        "generation": {"max_tokens": 8, "temperature": 0.0},
        "eval_batch_size": 2,
        "serve": {
            "backend": "swift",
            "model_type": "qwen2_5_vl",
            "template": "qwen2_5_vl",
            "start_timeout": 300,
            "max_new_tokens": 8,
            "external_plugins": [str(ROOT / "tests" / "cpu_vl_shim.py")],
        },
        "benchmarks": {
            "gsm8k": {"dataset_id": str(gsm8k_local(tmp_path)), "few_shot_num": 0, "limit": 2},
            "mm_star": {"dataset_id": str(mmstar_local(tmp_path)), "limit": 2},
        },
    }
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(cfg))
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    scores = main(["--config", str(path)])
    assert set(scores) == {"base", "stage4"} and all(set(s) == {"gsm8k", "mm_star"} for s in scores.values())
    assert all(0.0 <= v <= 1.0 for s in scores.values() for v in s.values())
    lines = (tmp_path / "eval" / "results.csv").read_text().splitlines()
    assert lines[0] == "model,gsm8k,mm_star,gsm8k delta,mm_star delta" and len(lines) == 3
    assert lines[1].endswith(",+0.00,+0.00")
    png = (tmp_path / "eval" / "results.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(tmp_path / "eval" / "results.png") as im:
        assert im.size[0] > 300
    assert "| model | gsm8k |" in (tmp_path / "eval" / "results.md").read_text()
    # the servers were started (their logs exist) and stopped: no process left behind
    assert (tmp_path / "eval" / "server_base.log").exists() and (tmp_path / "eval" / "server_stage4.log").exists()
    after = {p.pid for p in psutil.Process().children(recursive=True) if p.is_running()}
    assert after <= before
    # a rerun skips every evaluation already done and starts no server
    os.remove(tmp_path / "eval" / "server_base.log")
    capsys.readouterr()
    main(["--config", str(path)])
    out = capsys.readouterr().out
    assert "starting server" not in out and not (tmp_path / "eval" / "server_base.log").exists()
