"""Helpers shared by the tests (importable as `helpers`: pytest.ini puts tests/ on the path)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRET = "sk-mindgym-test-secret-0123456789"


def dj_env(server=None, **extra):
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", OPENAI_API_KEY=SECRET)
    if server is not None:
        env["OPENAI_BASE_URL"] = server.base_url
    env.update(extra)
    return env


def write_recipe(tmp_path: Path, recipe: dict, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def run_dj(recipe_path, env, tool="dj-process", timeout=600, cwd=None):
    exe = str(Path(sys.executable).parent / tool)
    return subprocess.run(
        [exe, "--config", str(recipe_path)], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def recipe_copy(name: str, tmp_path: Path, length=None, **top) -> Path:
    """A repo recipe with its outputs and caches moved under tmp_path."""
    recipe = yaml.safe_load((ROOT / "recipes" / name).read_text())
    recipe["export_path"] = str(tmp_path / "out" / "result.jsonl")
    if length is not None:
        recipe["generated_dataset_config"]["length"] = length
    if "dataset_path" in recipe:
        recipe["dataset_path"] = str(ROOT / recipe["dataset_path"])
    for step in recipe["process"]:
        for args in step.values():
            if isinstance(args, dict) and "cache_dir" in args:
                args["cache_dir"] = str(tmp_path / "cache")
    recipe.update(top)
    return write_recipe(tmp_path, recipe, name)


def api_run_env(server, **extra):
    """Every LLM op of a recipe on the loopback server, as a user would switch it."""
    return dj_env(server, MINDGYM_BACKEND="api", MINDGYM_MODEL="fake", **extra)
