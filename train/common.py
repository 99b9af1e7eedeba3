"""What the launcher and the evaluator share: the config error, the pydantic base their configs are built on
(unknown keys refused, paths resolved against the config file's folder, every error one line), the offline
environment, finding a CLI, and the command line both take."""

import argparse
import os
import shutil
import sys
from typing import Annotated, Any, Dict, Iterator, List, Optional, Tuple, Type, TypeVar, Union, get_args, get_origin

import jsonlines
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)

# set for every ms-swift and evalscope process we start: nothing is fetched from the hub behind the user's back
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
# entries of these lists are named as a person counts them (`stage 2`), other list entries by index (`[1]`)
COUNTED_ENTRIES = {"stages": "stage", "models": "model"}

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A bad config; the message is one line naming the problem."""


def looks_local(path: str) -> bool:
    """A local path rather than a hub id."""
    return path.startswith(("/", "./", "../", "~")) or os.path.exists(path)


def resolve_path(base_dir: str, path: str) -> str:
    """`path` as written in a config file in `base_dir`: relative paths are relative to that folder."""
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base_dir, path))


def find_program(program: str) -> str:
    """The CLI next to this interpreter when it is not on PATH (a venv used without activating it)."""
    if shutil.which(program):
        return program
    beside = os.path.join(os.path.dirname(sys.executable), program)
    return beside if os.path.exists(beside) else program


def _in_config_dir(path: str, info: ValidationInfo) -> str:
    base_dir = (info.context or {}).get("base_dir")
    return resolve_path(base_dir, path) if base_dir else path


def _local_in_config_dir(ref: str, info: ValidationInfo) -> str:
    return _in_config_dir(ref, info) if looks_local(ref) else ref


PACKAGED = "packaged:"  # `packaged:qwen2.5-0.5b`: the embedded model's Hugging Face folder, made once from its GGUF


def _model_ref(ref: str, info: ValidationInfo) -> str:
    if ref.startswith(PACKAGED):
        from mindgym_ops.llm.packaged import hf_folder_path

        return str(hf_folder_path(ref[len(PACKAGED) :]))  # a ValueError names the packaged models
    return _local_in_config_dir(ref, info)


def make_packaged(ref: Any) -> None:
    """Make the Hugging Face folder of `packaged:<name>` as a config names it, once (a real run; a dry run only names
    the folder); any other model reference is left alone."""
    if isinstance(ref, str) and ref.startswith(PACKAGED):
        from mindgym_ops.llm.packaged import hf_folder

        hf_folder(ref[len(PACKAGED) :])


# a file or folder named in a config: resolved against the config file's folder (`validate` passes it)
ConfigPath = Annotated[str, StringConstraints(min_length=1), AfterValidator(_in_config_dir)]
# a hub id, a local folder (resolved like ConfigPath), or `packaged:<name>` (the packaged model's folder)
HubOrPath = Annotated[str, StringConstraints(min_length=1), AfterValidator(_model_ref)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
# a command-line word or an environment value: YAML scalars (true, 8, 0.5) are written as str() writes them
Text = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, (bool, int, float)) else v)]


class ConfigModel(BaseModel):
    """A block of a config file: unknown keys are refused; numbers are accepted where text is expected
    (`extra_args: [--dataloader_num_workers, 0]`)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_unset(cls, raw: Any) -> Any:
        # YAML reads a key with nothing after it (`defaults:` with its lines commented out) as null
        return {k: v for k, v in raw.items() if v is not None} if isinstance(raw, dict) else raw


def read_yaml(path: str) -> Dict[str, Any]:
    """A config file as a mapping; a missing file or bad YAML is a one-line ConfigError."""
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
    return raw


def validate(model: Type[M], raw: Dict[str, Any], path: str) -> M:
    """`raw` (read from the config file `path`) as `model`; the first problem as a one-line ConfigError."""
    try:
        return model.model_validate(raw, context={"base_dir": os.path.dirname(os.path.abspath(path))})
    except ValidationError as e:
        raise ConfigError(one_line(model, e.errors()[0])) from None


def one_line(model: Type[BaseModel], error: Dict[str, Any]) -> str:
    """One pydantic error as a user reads it: the field as written in the YAML, and what it may be.

    Messages of our own validators (value errors) are written as whole sentences and pass through as they are."""
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        where, block = _walk(model, tuple(error["loc"][:-1]))
        key, allowed = error["loc"][-1], sorted(block.model_fields)
        if not where:
            return f"unknown config field {key!r}; allowed: {allowed}"
        return f"unknown field {key!r} in {_label(where)}; allowed: {allowed}"
    loc, annotation = _walk(model, tuple(error["loc"]))
    if kind == "missing":
        return f"missing required field {_label(loc)!r}"
    if kind == "literal_error":
        return f"{_label(loc)} must be one of {list(get_args(annotation))}, got {error['input']!r}"
    got = repr(error["input"])
    return f"{_label(loc)}: {error['msg']}, got {got if len(got) <= 80 else got[:77] + '...'}"


def _optional_of(annotation: Any) -> Any:
    """X for Optional[X], else the annotation itself."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    return args[0] if get_origin(annotation) is Union and len(args) == 1 else annotation


def _walk(model: Type[BaseModel], loc: Tuple[Union[str, int], ...]) -> Tuple[Tuple[Union[str, int], ...], Any]:
    """An error location as a config path (pydantic's union member names dropped) and the annotation there."""
    path: List[Union[str, int]] = []
    annotation: Any = model
    for part in loc:
        annotation = _optional_of(annotation)
        if get_origin(annotation) is Union:  # pydantic names the union member it tried: not a key of the config
            continue
        path.append(part)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = annotation.model_fields[part].annotation if part in annotation.model_fields else Any
        else:  # List[X] or Dict[str, X]: X
            annotation = (get_args(annotation) or (Any,))[-1]
    return tuple(path), _optional_of(annotation)


def _label(loc: Tuple[Union[str, int], ...]) -> str:
    """A config path as its author reads it: `serve.backend`, `stage 2: tuner_type`, `serve.extra_args[1]`."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parent = str(loc[i - 1])
            entry = COUNTED_ENTRIES.get(parent)
            text = text[: -len(parent)] + f"{entry} {part + 1}" if entry else f"{text}[{part}]"
        elif i == 0:
            text = str(part)
        else:
            text += (": " if isinstance(loc[i - 1], int) and str(loc[i - 2]) in COUNTED_ENTRIES else ".") + str(part)
    return text


def parse_cli(
    prog: str, doc: str, config_help: str, dry_run_help: str, argv: Optional[List[str]]
) -> argparse.Namespace:
    """`<prog> --config <yaml> [--dry-run]`, the command line of both tools."""
    ap = argparse.ArgumentParser(prog=prog, description=doc.splitlines()[0])
    ap.add_argument("--config", required=True, help=config_help)
    ap.add_argument("--dry-run", action="store_true", help=dry_run_help)
    return ap.parse_args(argv)


def read_jsonl(path: str) -> Iterator[Dict[str, Any]]:
    """The rows of a JSON-lines file, blank lines skipped; a line that is not a JSON object is a one-line
    ConfigError naming the file and the line."""
    with jsonlines.open(path) as reader:
        try:
            yield from reader.iter(type=dict, skip_empty=True)
        except jsonlines.InvalidLineError as e:
            raise ConfigError(f"{path}:{e.lineno}: {getattr(e.__cause__, 'msg', 'not a JSON object')}") from None
