"""Evaluation config: which models, which benchmarks, how to serve, the win rate. The YAML as pydantic models
(one-line errors naming the field), and the checks on what it names, before anything runs."""

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Union, get_args

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

TEXT_BENCHMARKS = ("gsm8k", "math_500", "gpqa_diamond")
MM_BENCHMARKS = ("mm_star", "math_vista", "math_vision")
BENCHMARKS = TEXT_BENCHMARKS + MM_BENCHMARKS
ServeBackend = Literal["auto", "vllm", "swift"]
SERVE_BACKENDS = get_args(ServeBackend)
TextEval = Literal["llm_ckpt", "served"]
TEXT_EVAL = get_args(TextEval)


GENERATION = {"max_tokens": 1024, "temperature": 0.0}  # greedy, room for a worked answer


class EvalModel(ConfigModel):
    """A model to evaluate (an entry of `models:`)."""

    name: NonEmpty
    path: HubOrPath


class BenchmarkArgs(ConfigModel):
    """A benchmark's evalscope arguments (`benchmarks: {gsm8k: {few_shot_num: 0}}`); None is not passed."""

    limit: Optional[Union[int, float]] = None  # rows, or a fraction of the benchmark
    dataset_id: Optional[HubOrPath] = None  # a hub id or a local copy
    few_shot_num: Optional[int] = None
    subset_list: Optional[List[str]] = None
    eval_batch_size: Optional[int] = None


class ServeConfig(ConfigModel):
    """How the runner serves a checkpoint (`serve:`)."""

    backend: ServeBackend = "auto"  # auto: vLLM on a GPU machine, else swift deploy
    port: Optional[int] = None  # None: a free one
    start_timeout: float = 600
    model_type: Optional[str] = None
    template: Optional[str] = None
    extra_args: List[Text] = []
    external_plugins: List[ConfigPath] = []
    max_new_tokens: Optional[int] = None  # None: generation.max_tokens


class Endpoint(ConfigModel):
    """A running OpenAI-compatible server to evaluate through instead of serving each checkpoint (`endpoint:`)."""

    url: NonEmpty
    model: Optional[str] = None  # the served name; None: the model's own name
    api_key_env: NonEmpty = "OPENAI_API_KEY"


class JudgeConfig(ConfigModel):
    """The win-rate judge (`winrate.judge:`), as the model layer takes it; None: the layer's default."""

    backend: Optional[str] = None
    model: Optional[str] = None
    model_params: Optional[Dict[str, Any]] = None


class WinrateConfig(ConfigModel):
    """The depth/breadth win rate (`winrate:`): `base` and `tuned` answer the questions, the judge compares them."""

    questions: ConfigPath  # JSON lines, the question under `question_key`
    question_key: NonEmpty = "question"
    base: NonEmpty  # names of evaluated models
    tuned: NonEmpty
    answer_backend: str = "hf"
    answer_model_params: Optional[Dict[str, Any]] = None
    max_tokens: int = 512
    language: Literal["en", "zh"] = "en"
    judge: JudgeConfig = Field(default_factory=JudgeConfig)

    @model_validator(mode="after")
    def _known_backends(self) -> "WinrateConfig":
        from mindgym_ops.llm import BACKENDS  # the model layer (0.24 s to import): only for configs that judge

        for name, value in (
            ("winrate.answer_backend", self.answer_backend),
            ("winrate.judge.backend", self.judge.backend),
        ):
            if value is not None and value not in BACKENDS:
                raise ValueError(f"{name} must be one of {list(BACKENDS)}, got {value!r}")
        return self


class EvalFile(ConfigModel):
    """An evaluation config file (configs/eval_*.yaml)."""

    output_dir: ConfigPath
    base_model: Optional[HubOrPath] = None  # evaluated as `base`, the model the deltas are against
    models: List[EvalModel] = []
    curriculum_dir: Optional[ConfigPath] = None  # a mindgym-train output_dir: each finished stage is evaluated
    benchmarks: Dict[str, BenchmarkArgs] = Field(default_factory=dict, validate_default=True)
    generation: Dict[str, Any] = Field(default_factory=lambda: dict(GENERATION))
    model_args: Dict[str, Any] = {}
    eval_batch_size: int = 1
    text_eval: TextEval = "llm_ckpt"
    serve: ServeConfig = Field(default_factory=ServeConfig)
    endpoint: Optional[Endpoint] = None
    winrate: Optional[WinrateConfig] = None

    @field_validator("generation", mode="before")
    @classmethod
    def _empty_generation(cls, raw: Any) -> Any:
        return raw or dict(GENERATION)  # `generation: {}` means the defaults, as an absent block does

    @model_validator(mode="before")
    @classmethod
    def _names_some_model(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and not any(raw.get(key) for key in ("base_model", "models", "curriculum_dir")):
            raise ValueError("no models to evaluate: set base_model, models or curriculum_dir")
        return raw

    @field_validator("benchmarks", mode="before")
    @classmethod
    def _known_benchmarks(cls, value: Any) -> Any:
        if isinstance(value, list):  # `benchmarks: [gsm8k, mm_star]`: each with evalscope's defaults
            value = {name: {} for name in value}
        if not isinstance(value, dict) or not value:
            raise ValueError(f"`benchmarks` must list some of {list(BENCHMARKS)}")
        for name in value:
            if name not in BENCHMARKS:
                raise ValueError(f"unknown benchmark {name!r}; valid: {list(BENCHMARKS)}")
        return {name: args or {} for name, args in value.items()}


@dataclass
class EvalConfig:
    output_dir: str
    models: List[EvalModel]  # the base model first: the deltas are against it
    benchmarks: Dict[str, BenchmarkArgs]
    generation: Dict[str, Any] = field(default_factory=dict)
    model_args: Dict[str, Any] = field(default_factory=dict)
    eval_batch_size: int = 1
    text_eval: str = "llm_ckpt"
    serve: ServeConfig = field(default_factory=ServeConfig)
    endpoint: Optional[Endpoint] = None
    winrate: Optional[WinrateConfig] = None
    missing: List[str] = field(default_factory=list)  # dry run: inputs not there yet
    curriculum_pending: Optional[str] = None  # dry run: the curriculum folder without a finished stage yet


def curriculum_models(curriculum_dir: str) -> List[EvalModel]:
    """Each finished stage of a `mindgym-train` run, from its state file."""
    state_path = os.path.join(curriculum_dir, "curriculum_state.json")
    if not os.path.isfile(state_path):
        raise ConfigError(f"no finished curriculum in {curriculum_dir} (missing curriculum_state.json)")
    with open(state_path, encoding="utf-8") as f:
        stages = json.load(f)["stages"]
    return [EvalModel(name=name, path=st["final_model"]) for name, st in stages.items()]


def load_eval_config(path: str, dry_run: bool = False) -> EvalConfig:
    """Validate an evaluation config.

    A dry run accepts inputs that are not there yet: a curriculum without a finished stage (`curriculum_pending`;
    its stages are left out), local checkpoints, datasets and win-rate questions (listed in `missing`). A real run
    refuses them."""
    raw = read_yaml(path)
    doc = validate(EvalFile, raw, path)
    missing: List[str] = []
    pending = None

    def absent(message: str, where: str) -> None:
        if not dry_run:
            raise ConfigError(message)
        missing.append(where)

    models = ([EvalModel(name="base", path=doc.base_model)] if doc.base_model else []) + list(doc.models)
    if doc.curriculum_dir:
        try:
            models += curriculum_models(doc.curriculum_dir)
        except ConfigError:
            if not dry_run:
                raise
            pending = doc.curriculum_dir
    if not models:
        raise ConfigError(
            f"no models to evaluate: no base_model or models, and no curriculum stages yet in {doc.curriculum_dir}"
        )
    if not dry_run and not doc.endpoint:
        for model in [raw.get("base_model")] + [m.get("path") for m in raw.get("models") or [] if isinstance(m, dict)]:
            make_packaged(model)
    for m in models:
        if looks_local(m.path) and not os.path.isdir(m.path) and not doc.endpoint:
            absent(f"checkpoint for model {m.name!r} not found: {m.path}", m.path)
    for name, args in doc.benchmarks.items():
        if args.dataset_id and looks_local(args.dataset_id) and not os.path.exists(args.dataset_id):
            absent(f"dataset_id for {name} not found: {args.dataset_id}", args.dataset_id)
    if doc.winrate:
        if not os.path.isfile(doc.winrate.questions):
            absent(f"winrate questions file not found: {doc.winrate.questions}", doc.winrate.questions)
        key = doc.winrate.question_key
        rows = read_jsonl(doc.winrate.questions) if os.path.isfile(doc.winrate.questions) else ()
        for n, row in enumerate(rows, 1):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ConfigError(
                    f"{doc.winrate.questions}: question {n} has no {key!r} text (winrate.question_key); "
                    f"its fields: {sorted(row)}"
                )
        names = [m.name for m in models]
        for role in ("base", "tuned"):
            chosen = getattr(doc.winrate, role)
            if chosen not in names and pending is None:  # a pending curriculum's stages are not known yet
                raise ConfigError(f"winrate.{role} must be one of the evaluated models {names}, got {chosen!r}")
    return EvalConfig(
        output_dir=doc.output_dir,
        models=models,
        benchmarks=doc.benchmarks,
        generation=doc.generation,
        model_args=doc.model_args,
        eval_batch_size=doc.eval_batch_size,
        text_eval=doc.text_eval,
        serve=doc.serve,
        endpoint=doc.endpoint,
        winrate=doc.winrate,
        missing=missing,
        curriculum_pending=pending,
    )
