"""The main job as the benchmarks run it: a copy of recipes/mindgym_text.yaml with its rows, export, request cache
and sampling seeds set, run by the real `dj-process` in a folder of its own."""

import os
import subprocess
import sys
import time
from typing import Optional, Tuple

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main_job_recipe(folder: str, rows: int, seed: Optional[int] = None, name: str = "mindgym_text.yaml") -> str:
    """Write the recipe into `folder` (export `folder/out/result.jsonl`, request cache `folder/cache`); `seed`
    replaces every op's sampling seed. Returns the recipe's path."""
    recipe = yaml.safe_load(open(os.path.join(ROOT, "recipes", name)))
    recipe["generated_dataset_config"]["length"] = rows
    recipe["export_path"] = os.path.join(folder, "out", "result.jsonl")
    for step in recipe["process"]:
        for args in step.values():
            if isinstance(args, dict) and "cache_dir" in args:
                args["cache_dir"] = os.path.join(folder, "cache")
            if seed is not None and isinstance(args, dict) and "seed" in (args.get("sampling_params") or {}):
                args["sampling_params"]["seed"] = seed
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "recipe.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(recipe, f)
    return path


def run_dj(recipe: str, cwd: str, log_name: str = "dj.log", echo: bool = False) -> Tuple[float, str]:
    """`dj-process --config recipe` in `cwd`, with MINDGYM_BACKEND/MINDGYM_MODEL unset (the recipe's own model); the
    log goes to `cwd/log_name` as it comes (`echo`: each op's summary line to the terminal too). Returns (wall
    seconds, log); a failure exits with the log's tail."""
    env = {k: v for k, v in os.environ.items() if k not in ("MINDGYM_BACKEND", "MINDGYM_MODEL")}
    exe = os.path.join(os.path.dirname(sys.executable), "dj-process")
    started = time.time()
    lines = []
    with open(os.path.join(cwd, log_name), "w") as f:
        proc = subprocess.Popen(
            [exe, "--config", recipe], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd
        )
        for line in proc.stdout:
            f.write(line)
            f.flush()
            lines.append(line)
            if echo and " rows in, kept " in line:
                print("    " + line.rsplit(" - ", 1)[-1].rstrip(), flush=True)
        proc.wait()
    wall = time.time() - started
    log = "".join(lines)
    if proc.returncode != 0:
        sys.exit(log[-3000:])
    return wall, log
