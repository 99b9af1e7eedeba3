"""Curriculum config: the YAML as pydantic models (one-line errors naming the field), the checks on what it
names (the base model folder, the data), and the split of the data into one ms-swift file per stage."""

import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Union, get_args

import jsonlines
from pydantic import Field, field_validator, model_validator

from .common import (
    ConfigError,
    ConfigModel,
    ConfigPath,
    HubOrPath,
    NonEmpty,
    Text,
    looks_local,
    make_packaged,
    read_jsonl,
    read_yaml,
    validate,
)

__all__ = ["ConfigError", "CurriculumConfig", "CurriculumFile", "Stage", "StageParams", "StageSpec", "load_config"]

CURRICULUM_STAGES = 4  # the stage numbers mindgym_curriculum_mapper writes
Tuner = Literal["lora", "full"]
TUNERS = get_args(Tuner)


class StageParams(ConfigModel):
    """The ms-swift arguments of a stage (`defaults:`). The defaults are the paper's settings
    (shared/reference/mindgym_method.md §3.4). A key set to null is not passed, so ms-swift's own default
    holds."""

    tuner_type: Tuner = "lora"
    lora_rank: Optional[int] = 8
    lora_alpha: Optional[int] = 32
    target_modules: Optional[str] = "all-linear"
    learning_rate: Optional[float] = 1e-5
    num_train_epochs: Optional[float] = 1
    max_steps: Optional[int] = None
    per_device_train_batch_size: Optional[int] = 1
    gradient_accumulation_steps: Optional[int] = 8
    max_length: Optional[int] = 4096
    warmup_ratio: Optional[float] = 0.05
    freeze_vit: Optional[bool] = None
    freeze_aligner: Optional[bool] = None
    freeze_llm: Optional[bool] = None
    save_steps: Optional[Union[int, float]] = None  # below 1: a fraction of the training steps
    logging_steps: Optional[Union[int, float]] = None
    torch_dtype: Optional[str] = None
    seed: Optional[int] = None
    extra_args: List[Text] = []  # appended to `swift sft` as they are

    @model_validator(mode="before")
    @classmethod
    def _null_is_unset(cls, raw: Any) -> Any:
        # here null means "leave the flag out" (ms-swift's default), except where a value is required
        if not isinstance(raw, dict):
            return raw
        keep = ("tuner_type", "extra_args", "name", "data", "curriculum_stage")
        return {k: v for k, v in raw.items() if v is not None or k not in keep}


class StageSpec(StageParams):
    """One entry of `stages:`; what it sets overrides `defaults:`."""

    name: Optional[NonEmpty] = None
    data: Optional[ConfigPath] = None  # the stage's own ms-swift file instead of its part of the top-level data
    # which curriculum stage's rows (the `stage_column` value) it trains on; default: its place in `stages`
    curriculum_stage: Optional[int] = Field(default=None, ge=1)


class CurriculumFile(ConfigModel):
    """A curriculum config file (configs/curriculum_*.yaml)."""

    base_model: HubOrPath
    model_type: NonEmpty
    template: NonEmpty
    output_dir: ConfigPath
    system: Optional[str] = None
    data: Optional[ConfigPath] = None  # a curriculum export (mindgym_curriculum_mapper rows), split by stage_column
    stage_column: NonEmpty = "curriculum_stage"
    stages: List[StageSpec] = []
    defaults: StageParams = Field(default_factory=StageParams)
    external_plugins: List[ConfigPath] = []
    nproc_per_node: Optional[int] = None
    nnodes: Optional[int] = None
    offline: bool = True  # --check_model false and the offline environment for every swift process
    env: Dict[str, Text] = {}

    @field_validator("stages", mode="before")
    @classmethod
    def _empty_stage(cls, raw: Any) -> Any:
        # a `-` with nothing after it is a stage that sets nothing of its own
        return [{} if st is None else st for st in raw] if isinstance(raw, list) else raw

    @model_validator(mode="after")
    def _every_stage_has_data(self) -> "CurriculumFile":
        if not self.stages:
            raise ValueError("`stages` must be a non-empty list")
        for i, stage in enumerate(self.stages, 1):
            if not stage.data and not self.data:
                raise ValueError(f"stage {i} has no data: set stages[{i - 1}].data or a top-level data file")
            if stage.curriculum_stage is not None and stage.data:
                raise ValueError(f"stage {i} sets both data and curriculum_stage; set one")
            if stage.curriculum_stage is not None and stage.curriculum_stage > CURRICULUM_STAGES:
                raise ValueError(
                    f"stage {i}: curriculum_stage must be one of {list(range(1, CURRICULUM_STAGES + 1))}, "
                    f"got {stage.curriculum_stage}"
                )
        return self


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


def count_rows(path: str) -> int:
    return sum(1 for _ in read_jsonl(path))


def stage_file(out_dir: str, stage: int) -> str:
    return os.path.join(out_dir, f"stage{stage}.jsonl")


def split_by_stage(source: str, column: str, out_dir: Optional[str], stages: int = 4) -> Dict[int, int]:
    """Check a curriculum export and count its rows per stage; with out_dir, also write one ms-swift jsonl per
    stage (messages + images only) as `stage_file(out_dir, k)`."""
    counts = {k: 0 for k in range(1, stages + 1)}
    with ExitStack() as files:
        writers = {}
        if out_dir is not None:
            os.makedirs(out_dir, exist_ok=True)
            writers = {k: files.enter_context(jsonlines.open(stage_file(out_dir, k), "w")) for k in counts}
        for n, row in enumerate(read_jsonl(source), 1):
            stage = row.get(column)
            if stage not in counts:
                raise ConfigError(f"{source}: row {n}: {column}={stage!r} is not a stage number 1..{stages}")
            if not isinstance(row.get("messages"), list):
                raise ConfigError(f"{source}: row {n} has no `messages` list (run mindgym_curriculum_mapper first)")
            counts[stage] += 1
            if writers:
                out = {"messages": row["messages"]}
                if row.get("images"):
                    out["images"] = row["images"]
                writers[stage].write(out)
    return counts


def stage_params(defaults: StageParams, spec: StageSpec) -> Dict[str, Any]:
    """A stage's ms-swift arguments: `defaults:` overridden by what the stage sets (extra_args apart)."""
    own = spec.model_dump(include=set(StageParams.model_fields) - {"extra_args"}, exclude_unset=True)
    return {**defaults.model_dump(exclude={"extra_args"}), **own}


def load_config(path: str, dry_run: bool = False) -> CurriculumConfig:
    """Validate a curriculum config; the data is split into stage files unless `dry_run`.

    A dry run accepts inputs that are not there yet (the base model folder, the data): they are listed in
    `missing` and their stages' row counts are None. A real run refuses them."""
    raw = read_yaml(path)
    doc = validate(CurriculumFile, raw, path)
    missing: List[str] = []

    def absent(message: str, where: str) -> None:
        if not dry_run:
            raise ConfigError(f"{message}: {where}")
        missing.append(where)

    if not dry_run:
        make_packaged(raw.get("base_model"))
    if looks_local(doc.base_model) and not os.path.isdir(doc.base_model):
        absent("base_model path does not exist", doc.base_model)
    for plugin in doc.external_plugins:
        if not os.path.isfile(plugin):
            raise ConfigError(f"external plugin not found: {plugin}")
    split_dir = os.path.join(doc.output_dir, "data")
    split: Optional[Dict[int, int]] = None
    if doc.data:
        if os.path.isfile(doc.data):
            parts = max(len(doc.stages), CURRICULUM_STAGES)
            split = split_by_stage(doc.data, doc.stage_column, None if dry_run else split_dir, parts)
        else:
            absent("data file not found", doc.data)
    stages = []
    for i, spec in enumerate(doc.stages, 1):
        rows = None
        if spec.data:
            data = spec.data
            if os.path.isfile(data):
                rows = count_rows(data)
            else:
                absent(f"stage {i} data file not found", data)
        else:
            part = spec.curriculum_stage or i
            data = stage_file(split_dir, part)
            rows = split[part] if split is not None else None
        if rows == 0:
            raise ConfigError(f"stage {i} data is empty: {data}")
        extra = spec.extra_args if "extra_args" in spec.model_fields_set else doc.defaults.extra_args
        stages.append(Stage(i, spec.name or f"stage{i}", data, stage_params(doc.defaults, spec), list(extra), rows))
    env = dict(doc.env)
    for value, var in ((doc.nproc_per_node, "NPROC_PER_NODE"), (doc.nnodes, "NNODES")):
        if value is not None:
            env[var] = str(value)
    return CurriculumConfig(
        base_model=doc.base_model,
        model_type=doc.model_type,
        template=doc.template,
        output_dir=doc.output_dir,
        stages=stages,
        system=doc.system,
        external_plugins=list(doc.external_plugins),
        env=env,
        offline=doc.offline,
        missing=missing,
    )
