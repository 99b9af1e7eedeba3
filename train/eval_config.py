"""Evaluation config: which models, which benchmarks, how to serve; validated before anything runs."""

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import yaml

from .config import ConfigError, _looks_local, _resolve

TEXT_BENCHMARKS = ("gsm8k", "math_500", "gpqa_diamond")
MM_BENCHMARKS = ("mm_star", "math_vista", "math_vision")
BENCHMARKS = TEXT_BENCHMARKS + MM_BENCHMARKS
BENCH_FIELDS = {"limit", "dataset_id", "few_shot_num", "subset_list", "eval_batch_size"}
TOP_FIELDS = {
    "output_dir",
    "models",
    "curriculum_dir",
    "base_model",
    "benchmarks",
    "generation",
    "model_args",
    "eval_batch_size",
    "text_eval",
    "serve",
    "endpoint",
    "winrate",
}
SERVE_FIELDS = {
    "backend",
    "port",
    "start_timeout",
    "model_type",
    "template",
    "extra_args",
    "external_plugins",
    "max_new_tokens",
}
SERVE_BACKENDS = ("auto", "vllm", "swift")
TEXT_EVAL = ("llm_ckpt", "served")


@dataclass
class EvalModel:
    name: str
    path: str


@dataclass
class EvalConfig:
    output_dir: str
    models: List[EvalModel]
    benchmarks: Dict[str, Dict[str, Any]]
    generation: Dict[str, Any] = field(default_factory=dict)
    model_args: Dict[str, Any] = field(default_factory=dict)
    eval_batch_size: int = 1
    text_eval: str = "llm_ckpt"
    serve: Dict[str, Any] = field(default_factory=dict)
    endpoint: Optional[Dict[str, str]] = None
    winrate: Optional[Dict[str, Any]] = None
    missing: List[str] = field(default_factory=list)  # dry run: inputs not there yet
    curriculum_pending: Optional[str] = None  # dry run: the curriculum folder without a finished stage yet


def curriculum_models(curriculum_dir: str) -> List[EvalModel]:
    """Each finished stage of a `mindgym-train` run, from its state file."""
    state_path = os.path.join(curriculum_dir, "curriculum_state.json")
    if not os.path.isfile(state_path):
        raise ConfigError(f"no finished curriculum in {curriculum_dir} (missing curriculum_state.json)")
    with open(state_path, encoding="utf-8") as f:
        stages = json.load(f)["stages"]
    return [EvalModel(name, st["final_model"]) for name, st in stages.items()]


def load_eval_config(path: str, dry_run: bool = False) -> EvalConfig:
    """Validate an evaluation config.

    A dry run accepts inputs that are not there yet: a curriculum without a finished stage (`curriculum_pending`;
    its stages are left out), local checkpoints and datasets (listed in `missing`). A real run refuses them."""
    missing: List[str] = []
    pending = None

    def absent(message: str, where: str) -> None:
        if not dry_run:
            raise ConfigError(message)
        missing.append(where)

    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {getattr(e, 'problem', None) or type(e).__name__}") from None
    unknown = set(raw) - TOP_FIELDS
    if unknown:
        raise ConfigError(f"unknown config field {sorted(unknown)[0]!r}; allowed: {sorted(TOP_FIELDS)}")
    if not raw.get("output_dir"):
        raise ConfigError("missing required field 'output_dir'")
    base_dir = os.path.dirname(os.path.abspath(path))
    models: List[EvalModel] = []
    if raw.get("base_model"):
        models.append(EvalModel("base", str(raw["base_model"])))
    for m in raw.get("models") or []:
        if not isinstance(m, dict) or not m.get("name") or not m.get("path"):
            raise ConfigError(f"each entry of `models` needs a name and a path, got {m!r}")
        models.append(EvalModel(str(m["name"]), str(m["path"])))
    if raw.get("curriculum_dir"):
        curriculum_dir = _resolve(base_dir, raw["curriculum_dir"])
        try:
            models += curriculum_models(curriculum_dir)
        except ConfigError:
            if not dry_run:
                raise
            pending = curriculum_dir
    if not models and pending:
        raise ConfigError(f"no models to evaluate: no base_model or models, and no curriculum stages yet in {pending}")
    if not models:
        raise ConfigError("no models to evaluate: set base_model, models or curriculum_dir")
    endpoint = raw.get("endpoint")
    for m in models:
        if _looks_local(m.path):
            m.path = _resolve(base_dir, m.path)
            if not os.path.isdir(m.path) and not endpoint:
                absent(f"checkpoint for model {m.name!r} not found: {m.path}", m.path)
    benches = raw.get("benchmarks")
    if isinstance(benches, list):
        benches = {b: {} for b in benches}
    if not isinstance(benches, dict) or not benches:
        raise ConfigError(f"`benchmarks` must list some of {list(BENCHMARKS)}")
    for name, args in benches.items():
        if name not in BENCHMARKS:
            raise ConfigError(f"unknown benchmark {name!r}; valid: {list(BENCHMARKS)}")
        bad = set(args or {}) - BENCH_FIELDS
        if bad:
            raise ConfigError(f"unknown field {sorted(bad)[0]!r} for benchmark {name}; allowed: {sorted(BENCH_FIELDS)}")
        if args and args.get("dataset_id") and _looks_local(str(args["dataset_id"])):
            args["dataset_id"] = _resolve(base_dir, str(args["dataset_id"]))
            if not os.path.exists(args["dataset_id"]):
                absent(f"dataset_id for {name} not found: {args['dataset_id']}", args["dataset_id"])
    serve = dict(raw.get("serve") or {})
    bad = set(serve) - SERVE_FIELDS
    if bad:
        raise ConfigError(f"unknown serve field {sorted(bad)[0]!r}; allowed: {sorted(SERVE_FIELDS)}")
    if serve.get("backend", "auto") not in SERVE_BACKENDS:
        raise ConfigError(f"serve.backend must be one of {list(SERVE_BACKENDS)}, got {serve.get('backend')!r}")
    serve["external_plugins"] = [_resolve(base_dir, p) for p in serve.get("external_plugins") or []]
    text_eval = raw.get("text_eval", "llm_ckpt")
    if text_eval not in TEXT_EVAL:
        raise ConfigError(f"text_eval must be one of {list(TEXT_EVAL)}, got {text_eval!r}")
    if endpoint is not None and (not isinstance(endpoint, dict) or not endpoint.get("url")):
        raise ConfigError("endpoint needs a url (and optionally model, api_key_env)")
    return EvalConfig(
        output_dir=_resolve(base_dir, raw["output_dir"]),
        models=models,
        benchmarks={k: dict(v or {}) for k, v in benches.items()},
        generation=dict(raw.get("generation") or {"max_tokens": 1024, "temperature": 0.0}),
        model_args=dict(raw.get("model_args") or {}),
        eval_batch_size=int(raw.get("eval_batch_size", 1)),
        text_eval=text_eval,
        serve=serve,
        endpoint=endpoint,
        winrate=raw.get("winrate"),
        missing=missing,
        curriculum_pending=pending,
    )
