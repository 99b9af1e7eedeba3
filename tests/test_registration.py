"""The pack registers with Data-Juicer by entry point; custom_operator_paths works without installing it."""

import subprocess
import sys

from helpers import ROOT, dj_env, read_jsonl, write_recipe

OPS = {
    "mindgym_background_mapper",
    "mindgym_seed_qa_mapper",
    "mindgym_multihop_qa_mapper",
    "mindgym_depth_breadth_filter",
    "mindgym_self_consistency_filter",
    "mindgym_curriculum_mapper",
}


def py(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dj_env(**env), cwd="/")


def test_import_data_juicer_ops_registers_the_pack_without_a_recipe_key():
    r = py(
        "import data_juicer.ops\nfrom data_juicer.ops.base_op import OPERATORS\n"
        "print(sorted(k for k in OPERATORS.modules if k.startswith('mindgym_')))"
    )
    assert r.returncode == 0, r.stderr
    assert set(eval(r.stdout.strip().splitlines()[-1])) == OPS


def test_importing_the_pack_loads_no_heavy_runtime():
    r = py(
        "import sys, mindgym_ops\n"
        "print([m for m in ('torch', 'transformers', 'openai', 'llama_cpp', 'vllm', 'swift') if m in sys.modules])"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"


# Simulates a user who did not pip-install the pack: the entry point is hidden, so the only way
# the ops can arrive is the recipe's custom_operator_paths.
WITHOUT_ENTRY_POINT = """
import importlib.metadata as md, sys
_eps = md.entry_points
md.entry_points = lambda **kw: md.EntryPoints(e for e in _eps(**kw) if e.name != "mindgym_ops") if kw else _eps()
sys.path = [p for p in sys.path if p not in ("", ".")]
sys.meta_path = [f for f in sys.meta_path if "editable" not in type(f).__module__.lower()]
sys.argv = ["dj-process", "--config", sys.argv[1]]
from data_juicer.tools.process_data import main
main()
"""


def test_custom_operator_paths_runs_a_recipe_without_the_entry_point(tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text(
        '{"text": "x", "multihop_question": "Q?", "multihop_answer": "A.", '
        '"thinking": "Reason step by step about it.", "mindgym_row_id": "r1"}\n'
    )
    recipe = write_recipe(
        tmp_path,
        {
            "project_name": "paths",
            "dataset_path": str(data),
            "export_path": str(tmp_path / "out" / "r.jsonl"),
            "np": 1,
            "use_cache": False,
            "custom_operator_paths": [str(ROOT / "mindgym_ops" / "register.py")],
            "process": [{"mindgym_curriculum_mapper": {"split": "all"}}],
        },
    )
    r = subprocess.run(
        [sys.executable, "-c", WITHOUT_ENTRY_POINT, str(recipe)],
        capture_output=True,
        text=True,
        env=dj_env(),
        cwd=str(tmp_path),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "via entry points: ['mindgym_ops']" not in r.stderr
    rows = read_jsonl(tmp_path / "out" / "r.jsonl")
    assert sorted(row["curriculum_stage"] for row in rows) == [1, 2, 3, 4]
