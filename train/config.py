"""Curriculum config: load, validate (one line naming the problem), and split the stage data."""

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import yaml

# the paper's settings (shared/reference/mindgym_method.md §3.4)
PAPER_DEFAULTS: Dict[str, Any] = {
    "tuner_type": "lora",
    "lora_rank": 8,
    "lora_alpha": 32,
    "target_modules": "all-linear",
    "learning_rate": 1e-5,
    "num_train_epochs": 1,
    "per_device_train_batch_size": 1,
    "gradient_accumulation_steps": 8,
    "max_length": 4096,
    "warmup_ratio": 0.05,
}
STAGE_FIELDS = {
    "name",
    "data",
    "tuner_type",
    "lora_rank",
    "lora_alpha",
    "target_modules",
    "learning_rate",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_length",
    "warmup_ratio",
    "freeze_vit",
    "freeze_aligner",
    "freeze_llm",
    "save_steps",
    "logging_steps",
    "torch_dtype",
    "seed",
    "extra_args",
}
TOP_FIELDS = {
    "base_model",
    "model_type",
    "template",
    "output_dir",
    "system",
    "data",
    "stage_column",
    "stages",
    "defaults",
    "external_plugins",
    "nproc_per_node",
    "nnodes",
    "offline",
    "env",
}
TUNERS = ("lora", "full")


class ConfigError(ValueError):
    """A bad curriculum config; the message is one line naming the problem."""


@dataclass
class Stage:
    index: int
    name: str
    data: str
    params: Dict[str, Any]
    extra_args: List[str] = field(default_factory=list)
    rows: Optional[int] = None  # None: the data is not there yet (dry run)

    @property
    def tuner(self) -> str:
        return self.params["tuner_type"]


@dataclass
class CurriculumConfig:
    base_model: str
    model_type: str
    template: str
    output_dir: str
    stages: List[Stage]
    system: Optional[str] = None
    external_plugins: List[str] = field(default_factory=list)
    env: Dict[str, str] = field(default_factory=dict)
    offline: bool = True
    missing: List[str] = field(default_factory=list)  # dry run: inputs not there yet


def _looks_local(path: str) -> bool:
    return path.startswith(("/", "./", "../", "~")) or os.path.exists(path)


def _resolve(base_dir: str, path: str) -> str:
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def count_rows(path: str) -> int:
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def stage_file(out_dir: str, stage: int) -> str:
    return os.path.join(out_dir, f"stage{stage}.jsonl")


def split_by_stage(source: str, column: str, out_dir: Optional[str], stages: int = 4) -> Dict[int, int]:
    """Check a curriculum export and count its rows per stage; with out_dir, also write one ms-swift jsonl per
    stage (messages + images only) as `stage_file(out_dir, k)`."""
    counts = {k: 0 for k in range(1, stages + 1)}
    files = {}
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        files = {k: open(stage_file(out_dir, k), "w", encoding="utf-8") for k in counts}
    try:
        with open(source, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                stage = row.get(column)
                if stage not in counts:
                    raise ConfigError(f"{source}:{n}: {column}={stage!r} is not a stage number 1..{stages}")
                if not isinstance(row.get("messages"), list):
                    raise ConfigError(f"{source}:{n}: row has no `messages` list (run mindgym_curriculum_mapper first)")
                counts[stage] += 1
                if files:
                    out = {"messages": row["messages"]}
                    if row.get("images"):
                        out["images"] = row["images"]
                    files[stage].write(json.dumps(out, ensure_ascii=False) + "\n")
    finally:
        for f in files.values():
            f.close()
    return counts


def load_config(path: str, dry_run: bool = False) -> CurriculumConfig:
    """Validate a curriculum config; the data is split into stage files unless `dry_run`.

    A dry run accepts inputs that are not there yet (the base model folder, the data): they are listed in
    `missing` and their stages' row counts are None. A real run refuses them."""
    missing: List[str] = []

    def absent(message: str, where: str) -> None:
        if not dry_run:
            raise ConfigError(f"{message}: {where}")
        missing.append(where)

    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}  # safe: no tags that build Python objects
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        at = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', None) or type(e).__name__}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping")
    unknown = set(raw) - TOP_FIELDS
    if unknown:
        raise ConfigError(f"unknown config field {sorted(unknown)[0]!r}; allowed: {sorted(TOP_FIELDS)}")
    for key in ("base_model", "model_type", "template", "output_dir"):
        if not raw.get(key):
            raise ConfigError(f"missing required field {key!r}")
    base_dir = os.path.dirname(os.path.abspath(path))
    base_model = str(raw["base_model"])
    if _looks_local(base_model):
        base_model = _resolve(base_dir, base_model)
        if not os.path.isdir(base_model):
            absent("base_model path does not exist", base_model)
    output_dir = _resolve(base_dir, raw["output_dir"])
    defaults = {**PAPER_DEFAULTS, **(raw.get("defaults") or {})}
    bad = set(defaults) - STAGE_FIELDS
    if bad:
        raise ConfigError(f"unknown field {sorted(bad)[0]!r} in defaults; allowed: {sorted(STAGE_FIELDS)}")
    raw_stages = raw.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ConfigError("`stages` must be a non-empty list")
    for i, st in enumerate(raw_stages, 1):
        bad = set(st or {}) - STAGE_FIELDS
        if bad:
            raise ConfigError(f"unknown field {sorted(bad)[0]!r} in stage {i}; allowed: {sorted(STAGE_FIELDS)}")
        tuner = (st or {}).get("tuner_type", defaults["tuner_type"])
        if tuner not in TUNERS:
            raise ConfigError(f"stage {i}: tuner_type must be one of {list(TUNERS)}, got {tuner!r}")
    split_dir = os.path.join(output_dir, "data")
    split: Optional[Dict[int, int]] = None
    if raw.get("data"):
        source = _resolve(base_dir, raw["data"])
        if os.path.isfile(source):
            column = raw.get("stage_column", "curriculum_stage")
            split = split_by_stage(source, column, None if dry_run else split_dir, len(raw_stages))
        else:
            absent("data file not found", source)
    stages = []
    for i, st in enumerate(raw_stages, 1):
        st = dict(st or {})
        params = {**defaults, **{k: v for k, v in st.items() if k not in ("name", "data", "extra_args")}}
        params.pop("extra_args", None)
        rows = None
        if st.get("data"):
            data = _resolve(base_dir, st["data"])
            if os.path.isfile(data):
                rows = count_rows(data)
            else:
                absent(f"stage {i} data file not found", data)
        elif raw.get("data"):
            data = stage_file(split_dir, i)
            rows = split[i] if split is not None else None
        else:
            raise ConfigError(f"stage {i} has no data: set stages[{i - 1}].data or a top-level data file")
        if rows == 0:
            raise ConfigError(f"stage {i} data is empty: {data}")
        extra = st.get("extra_args", defaults.get("extra_args")) or []
        stages.append(Stage(i, str(st.get("name") or f"stage{i}"), data, params, [str(a) for a in extra], rows))
    env = {str(k): str(v) for k, v in (raw.get("env") or {}).items()}
    for key, var in (("nproc_per_node", "NPROC_PER_NODE"), ("nnodes", "NNODES")):
        if raw.get(key) is not None:
            env[var] = str(raw[key])
    plugins = [_resolve(base_dir, p) for p in raw.get("external_plugins") or []]
    for p in plugins:
        if not os.path.isfile(p):
            raise ConfigError(f"external plugin not found: {p}")
    return CurriculumConfig(
        base_model=base_model,
        model_type=str(raw["model_type"]),
        template=str(raw["template"]),
        output_dir=output_dir,
        stages=stages,
        system=raw.get("system"),
        external_plugins=plugins,
        env=env,
        offline=bool(raw.get("offline", True)),
        missing=missing,
    )
