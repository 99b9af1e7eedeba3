"""`mindgym-train --config configs/<name>.yaml`: the four-stage thinking curriculum on ms-swift.

Pure argv builders plus a thin main. Each stage starts from the previous stage's weights: a LoRA
stage is merged (`swift export --merge_lora true`) and the next stage loads the merged model; a
full fine-tuning stage hands over its last checkpoint. A rerun skips finished stages and resumes
an interrupted one from its last checkpoint. Commands are argv lists, never shell strings."""

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import Dict, List, Optional

from .config import ConfigError, CurriculumConfig, Stage, load_config

STATE_FILE = "curriculum_state.json"
_CKPT = re.compile(r"checkpoint-(\d+)$")


def stage_dir(cfg: CurriculumConfig, stage: Stage) -> str:
    return os.path.join(cfg.output_dir, f"{stage.index:02d}_{stage.name}")


def _flag(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_sft_argv(cfg: CurriculumConfig, stage: Stage, model: str, resume_from: Optional[str] = None) -> List[str]:
    argv = [
        "swift",
        "sft",
        "--model",
        model,
        "--model_type",
        cfg.model_type,
        "--template",
        cfg.template,
        "--dataset",
        stage.data,
        "--output_dir",
        stage_dir(cfg, stage),
        "--add_version",
        "false",
        "--report_to",
        "none",
    ]
    if cfg.offline:
        argv += ["--check_model", "false"]
    if cfg.system:
        argv += ["--system", cfg.system]
    for key in sorted(stage.params):
        value = stage.params[key]
        if value is None:
            continue
        if stage.tuner == "full" and key in ("lora_rank", "lora_alpha", "target_modules"):
            continue
        argv += [f"--{key}", _flag(value)]
    if cfg.external_plugins:
        argv += ["--external_plugins", *cfg.external_plugins]
    if resume_from:
        argv += ["--resume_from_checkpoint", resume_from]
    return argv + list(stage.extra_args)


def build_export_argv(cfg: CurriculumConfig, checkpoint: str) -> List[str]:
    argv = ["swift", "export", "--adapters", checkpoint, "--merge_lora", "true"]
    if cfg.external_plugins:
        argv += ["--external_plugins", *cfg.external_plugins]
    return argv


def last_checkpoint(output_dir: str) -> Optional[str]:
    """The newest complete checkpoint of a stage (ms-swift's logging.jsonl, else the highest checkpoint-N)."""
    log = os.path.join(output_dir, "logging.jsonl")
    if os.path.isfile(log):
        with open(log, encoding="utf-8") as f:
            lines = [ln for ln in f if ln.strip()]
        for line in reversed(lines):
            try:
                ckpt = json.loads(line).get("last_model_checkpoint")
            except ValueError:
                continue
            if ckpt and os.path.isdir(ckpt):
                return ckpt
    found = []
    for path in glob.glob(os.path.join(output_dir, "checkpoint-*")):
        m = _CKPT.search(path)
        if m and os.path.isdir(path) and os.path.exists(os.path.join(path, "trainer_state.json")):
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def load_state(cfg: CurriculumConfig) -> Dict:
    path = os.path.join(cfg.output_dir, STATE_FILE)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {"stages": {}}


def save_state(cfg: CurriculumConfig, state: Dict) -> None:
    os.makedirs(cfg.output_dir, exist_ok=True)
    path = os.path.join(cfg.output_dir, STATE_FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(state, f, indent=2)
    os.replace(path + ".tmp", path)


def plan(cfg: CurriculumConfig, state: Dict) -> List[Dict]:
    """Every command the run would make now, in order: [{stage, kind, argv}]. Finished stages are skipped."""
    steps, model = [], cfg.base_model
    for stage in cfg.stages:
        done = state["stages"].get(stage.name)
        if done and os.path.isdir(done["final_model"]):
            model = done["final_model"]
            continue
        resume = last_checkpoint(stage_dir(cfg, stage))
        steps.append({"stage": stage, "kind": "sft", "argv": build_sft_argv(cfg, stage, model, resume)})
        model = f"<{stage.name} output>"
        if stage.tuner == "lora":
            steps.append(
                {"stage": stage, "kind": "export", "argv": build_export_argv(cfg, f"<{stage.name} checkpoint>")}
            )
    return steps


def print_plan(cfg: CurriculumConfig) -> None:
    """The dry run: each stage's row count as a comment, then its commands; inputs not there yet in one warning line."""
    if cfg.missing:
        print(
            f"mindgym-train: warning: not there yet: {', '.join(cfg.missing)} (the plan below is what a run would "
            "do once they exist; stage row counts unknown)",
            file=sys.stderr,
            flush=True,
        )
    if cfg.env:
        print("# environment: " + " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(cfg.env.items())))
    for step in plan(cfg, load_state(cfg)):
        stage = step["stage"]
        if step["kind"] == "sft":
            rows = "unknown" if stage.rows is None else stage.rows
            print(f"# stage {stage.index} {stage.name}: rows {rows}, data {stage.data}")
        print(shlex.join(step["argv"]))


def _resolve(program: str) -> str:
    """The CLI next to this interpreter when it is not on PATH (a venv used without activating it)."""
    if shutil.which(program):
        return program
    beside = os.path.join(os.path.dirname(sys.executable), program)
    return beside if os.path.exists(beside) else program


def _run(argv: List[str], env: Dict[str, str]) -> None:
    print("+ " + shlex.join(argv), flush=True)  # for the log only; the command itself is an argv list
    proc = subprocess.run([_resolve(argv[0])] + argv[1:], env=env)
    if proc.returncode != 0:
        raise SystemExit(f"mindgym-train: `{argv[0]} {argv[1]}` failed with exit code {proc.returncode}")


def run(cfg: CurriculumConfig) -> str:
    env = {**os.environ, **cfg.env}
    if cfg.offline:
        env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    state = load_state(cfg)
    model = cfg.base_model
    for stage in cfg.stages:
        done = state["stages"].get(stage.name)
        if done and os.path.isdir(done["final_model"]):
            print(f"[{stage.name}] done earlier: {done['final_model']}", flush=True)
            model = done["final_model"]
            continue
        out = stage_dir(cfg, stage)
        resume = last_checkpoint(out)
        if resume:
            print(f"[{stage.name}] resuming from {resume}", flush=True)
        print(f"[{stage.name}] training from {model}", flush=True)
        _run(build_sft_argv(cfg, stage, model, resume), env)
        ckpt = last_checkpoint(out)
        if ckpt is None:
            raise SystemExit(f"mindgym-train: {stage.name} finished without a checkpoint in {out}")
        if stage.tuner == "lora":
            merged = ckpt + "-merged"
            if not os.path.isdir(merged):
                _run(build_export_argv(cfg, ckpt), env)
            final = merged
        else:
            final = ckpt
        state["stages"][stage.name] = {"final_model": final, "started_from": model, "checkpoint": ckpt}
        save_state(cfg, state)
        model = final
    return model


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(prog="mindgym-train", description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="curriculum config YAML (see configs/)")
    ap.add_argument("--dry-run", action="store_true", help="print every command and exit")
    args = ap.parse_args(argv)
    try:
        cfg = load_config(args.config, dry_run=args.dry_run)
    except (ConfigError, OSError) as e:
        sys.exit(f"mindgym-train: {e}")
    if args.dry_run:
        print_plan(cfg)
        return
    try:
        final = run(cfg)
    except OSError as e:
        sys.exit(f"mindgym-train: {e}")
    print(f"final model: {final}", flush=True)


if __name__ == "__main__":
    main()
