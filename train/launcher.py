"""`mindgym-train --config configs/<name>.yaml`: the four-stage thinking curriculum on ms-swift.

Pure argv builders plus a thin main. Each stage starts from the previous stage's weights: a LoRA
stage is merged (`swift export --merge_lora true`) and the next stage loads the merged model; a
full fine-tuning stage hands over its last checkpoint. A rerun skips finished stages and resumes
an interrupted one from its last checkpoint. Commands are argv lists, never shell strings."""

import glob
import json
import os
import re
import shlex
import subprocess
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import jsonlines

from .common import OFFLINE_ENV, ConfigError, find_program, parse_cli
from .config import CurriculumConfig, Stage, load_config

STATE_FILE = "curriculum_state.json"
_CKPT = re.compile(r"checkpoint-(\d+)$")


def stage_dir(cfg: CurriculumConfig, stage: Stage) -> str:
    return os.path.join(cfg.output_dir, f"{stage.index:02d}_{stage.name}")


FINAL = "final"  # <stage dir>/final: a link to the model the stage made, a path an eval config can name in advance


def link_final(cfg: CurriculumConfig, stage: Stage, model: str) -> None:
    """Point `<stage dir>/final` at the stage's model (replaced atomically)."""
    link = os.path.join(stage_dir(cfg, stage), FINAL)
    tmp = f"{link}.tmp{os.getpid()}"
    os.symlink(os.path.relpath(model, os.path.dirname(link)), tmp)
    os.replace(tmp, link)


def _flag(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():  # `num_train_epochs: 1` reads back as 1.0
        return str(int(value))
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
        with jsonlines.open(log) as reader:  # a line cut by a kill is passed over
            records = list(reader.iter(type=dict, skip_empty=True, skip_invalid=True))
        for record in reversed(records):
            ckpt = record.get("last_model_checkpoint")
            if ckpt and os.path.isdir(ckpt):
                return ckpt
    found = []
    for path in glob.glob(os.path.join(output_dir, "checkpoint-*")):
        m = _CKPT.search(path)
        if m and os.path.isdir(path) and os.path.exists(os.path.join(path, "trainer_state.json")):
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def train_loss(output_dir: str) -> Optional[float]:
    """A stage's training loss as ms-swift logged it (`logging.jsonl`): its `train_loss` summary, else the last
    logged loss; None when it logged none."""
    log = os.path.join(output_dir, "logging.jsonl")
    if not os.path.isfile(log):
        return None
    with jsonlines.open(log) as reader:
        records = list(reader.iter(type=dict, skip_empty=True, skip_invalid=True))
    for key in ("train_loss", "loss"):
        found = [r[key] for r in records if isinstance(r.get(key), (int, float))]
        if found:
            return float(found[-1])
    return None


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


def output_ref(stage: Stage) -> str:
    """How a plan names the model a stage makes before it exists."""
    return f"<{stage.name} output>"


def checkpoint_ref(stage: Stage) -> str:
    """How a plan names a stage's last checkpoint before it exists."""
    return f"<{stage.name} checkpoint>"


def finished_model(state: Dict, stage: Stage) -> Optional[str]:
    """The model a stage made in an earlier run, when it is still there."""
    done = state["stages"].get(stage.name)
    return done["final_model"] if done and os.path.isdir(done["final_model"]) else None


def plan(cfg: CurriculumConfig, state: Dict) -> List[Dict]:
    """Every command the run makes now, in order: [{stage, kind, argv, model, resume}], `model` being what the
    stage starts from. Finished stages are skipped. What an earlier step makes is named by `output_ref` and
    `checkpoint_ref` until `run` knows it."""
    steps, model = [], cfg.base_model
    for stage in cfg.stages:
        done = finished_model(state, stage)
        if done:
            model = done
            continue
        resume = last_checkpoint(stage_dir(cfg, stage))
        sft = build_sft_argv(cfg, stage, model, resume)
        steps.append({"stage": stage, "kind": "sft", "argv": sft, "model": model, "resume": resume})
        if stage.tuner == "lora":
            export = build_export_argv(cfg, checkpoint_ref(stage))
            steps.append({"stage": stage, "kind": "export", "argv": export, "model": model, "resume": None})
        model = output_ref(stage)
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


def run_command(argv: List[str], env: Dict[str, str]) -> None:
    """Run one step's command (an argv list, never a shell string); a failure stops the run with one line."""
    print("+ " + shlex.join(argv), flush=True)  # for the log only
    proc = subprocess.run([find_program(argv[0])] + argv[1:], env=env)
    if proc.returncode != 0:
        raise SystemExit(f"mindgym-train: `{argv[0]} {argv[1]}` failed with exit code {proc.returncode}")


Executor = Callable[[List[str], Dict[str, str]], None]


def run(cfg: CurriculumConfig, execute: Executor = run_command) -> str:
    """Execute `plan` step by step, filling in what each step made; each finished stage goes to the state file.
    Returns the last stage's model."""
    env = {**os.environ, **cfg.env, **(OFFLINE_ENV if cfg.offline else {})}
    state = load_state(cfg)
    for stage in cfg.stages:
        done = finished_model(state, stage)
        if done:
            print(f"[{stage.name}] done earlier: {done}", flush=True)
    made: Dict[str, str] = {}  # output_ref / checkpoint_ref -> the path the step made
    started: Dict[str, float] = {}  # stage name -> when this run started it
    for step in plan(cfg, state):
        stage = step["stage"]
        argv = [made.get(arg, arg) for arg in step["argv"]]
        started.setdefault(stage.name, time.time())
        if step["kind"] == "sft":
            if step["resume"]:
                print(f"[{stage.name}] resuming from {step['resume']}", flush=True)
            print(f"[{stage.name}] training from {made.get(step['model'], step['model'])}", flush=True)
            execute(argv, env)
            out = stage_dir(cfg, stage)
            ckpt = last_checkpoint(out)
            if ckpt is None:
                raise SystemExit(f"mindgym-train: {stage.name} finished without a checkpoint in {out}")
            made[checkpoint_ref(stage)] = ckpt
            made[output_ref(stage)] = ckpt + "-merged" if stage.tuner == "lora" else ckpt
        elif not os.path.isdir(made[output_ref(stage)]):  # a merge an interrupted run finished is kept
            execute(argv, env)
        if step["kind"] == "export" or stage.tuner != "lora":  # the stage's last step
            state["stages"][stage.name] = {
                "final_model": made[output_ref(stage)],
                "started_from": made.get(step["model"], step["model"]),
                "checkpoint": made[checkpoint_ref(stage)],
                "seconds": round(time.time() - started[stage.name], 1),  # this run's share, merge included
                "train_loss": train_loss(stage_dir(cfg, stage)),
            }
            save_state(cfg, state)
            link_final(cfg, stage, made[output_ref(stage)])
            print(f"[{stage.name}] done in {state['stages'][stage.name]['seconds']:.0f} s", flush=True)
    return state["stages"][cfg.stages[-1].name]["final_model"]


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_cli(
        "mindgym-train", __doc__, "curriculum config YAML (see configs/)", "print every command and exit", argv
    )
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
