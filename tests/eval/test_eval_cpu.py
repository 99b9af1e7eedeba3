"""evalscope for real on CPU: two tiny Qwen2.5-VL checkpoints, each served by `swift deploy` (started
and always stopped by the runner), on local gsm8k- and mm_star-format datasets built here."""

import csv
import os

import psutil
import pytest
import yaml
from eval_data import gsm8k_local, mmstar_local
from helpers import ROOT
from mindgym_train.evaluate import main
from PIL import Image
from tiny_models import build_tiny_qwen25_vl

pytestmark = pytest.mark.slow


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
    assert main(["--config", str(path)]) is None  # the console script passes main's return value to sys.exit
    with open(tmp_path / "eval" / "results.csv", newline="") as f:
        scores = {r.pop("model"): r for r in csv.DictReader(f)}
    assert set(scores) == {"base", "stage4"}
    assert all(0.0 <= float(s[b]) <= 100.0 for s in scores.values() for b in ("gsm8k", "mm_star"))
    lines = (tmp_path / "eval" / "results.csv").read_text().splitlines()
    extra = [f"{b} {k}" for b in ("gsm8k", "mm_star") for k in ("n", "ci95 low", "ci95 high", "reasons first")]
    assert lines[0] == ",".join(["model", "gsm8k", "mm_star", "gsm8k delta", "mm_star delta"] + extra)
    assert len(lines) == 3 and ",+0.00,+0.00," in lines[1]
    # read off evalscope's own reviews: 2 problems each, and the score's 95% interval around it
    for s in scores.values():
        for b in ("gsm8k", "mm_star"):
            assert s[f"{b} n"] == "2" and float(s[f"{b} ci95 low"]) <= float(s[b]) <= float(s[f"{b} ci95 high"])
            assert 0.0 <= float(s[f"{b} reasons first"]) <= 100.0
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
