import ast
import re
from typing import Any, Dict, List, Tuple

import pytest
from catalogue import CASES, run_case

from mindgym_ops.schemas import CATEGORIES

IMAGE_DROPPED = {"rows out": 0, "dropped": {"seed_qa_image": 1}}

# case -> the whole outcome, parsed (see `parse`); `<tmp>` stands for the case's temporary folder
EXPECTED: Dict[str, Any] = {
    "text: empty string": {"kept": True, "background": "scratch"},
    "text: None": {"kept": True, "background": "scratch"},
    "text: not a string (int)": {"dropped": {"background_input": 1}},
    "text: 1 MB document": {"kept": True, "cut": True, "1040 kB -> within budget": True},
    "unknown category": ("ValueError", f"categories must be one of {list(CATEGORIES)}, got 'Cooking'"),
    "unknown principle": (
        "ValueError",
        "principles must be one of ['Bridging', 'Comparison', 'Temporal'], got 'Vibes'",
    ),
    "unknown language": ("ValueError", "language must be one of ['en', 'zh'], got 'fr'"),
    "unknown backend": ("ValueError", "backend must be one of ['api', 'vllm', 'hf', 'local'], got 'openai'"),
    "try_num 0": ("ValueError", "try_num must be an integer >= 1, got 0"),
    "try_num -1": ("ValueError", "try_num must be an integer >= 1, got -1"),
    "image: missing": IMAGE_DROPPED,
    "image: corrupt": IMAGE_DROPPED,
    "image: over the size cap": IMAGE_DROPPED,
    "image: outside image_root": IMAGE_DROPPED,
    "instructions inside a document": {
        "delimited": True,
        "fields": ["relationship_category", "sub_questions"],
        "seeds": 3,
    },
    "empty dataset (0 rows reach the ops)": {"completed": True},
    "recipe param of the wrong type": (
        "refused",
        "[mindgym_background_mapper] Parameter 'language' expects type 'str', got 'int' (value: 5)",
    ),
    "launcher config: not YAML": (
        "SystemExit",
        "mindgym-train: <tmp>/cfg.yaml: not valid YAML (line 2): expected ',' or ']', but got '<stream end>'",
    ),
    "launcher config: unsafe YAML tag": (
        "SystemExit",
        "mindgym-train: <tmp>/cfg.yaml: not valid YAML (line 1): could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    "launcher config: missing field": ("SystemExit", "mindgym-train: missing required field 'base_model'"),
}

_RAISED = re.compile(r"(\w+(?:Error|Exit)|refused): (?:✗ )?(.*)")
_NAMED = re.compile(r"([^=:{\[']+?)(?:=|: )(.*)")  # the separator before any bracket or quote
_TEXT = object()  # not a Python literal


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return _TEXT


def _fields(text: str) -> List[str]:
    """`text` split at the commas outside brackets."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif depth == 0 and text.startswith(", ", i):
            out.append(text[start:i])
            start = i + 2
    return out + [text[start:]]


def _field(field: str) -> Tuple[str, Any]:
    """`name=value`, `name: value` or `name value` (the value from the first space that starts a literal,
    else after the last space); a bare word is True."""
    named = _NAMED.fullmatch(field)
    if named:
        name, value = named.groups()
    else:
        spaces = [i for i, ch in enumerate(field) if ch == " "]
        if not spaces:
            return field, True
        cut = next((i for i in spaces if _literal(field[i + 1 :]) is not _TEXT), spaces[-1])
        name, value = field[:cut], field[cut + 1 :]
    parsed = _literal(value)
    return name, value if parsed is _TEXT else parsed


def parse(observed: str) -> Any:
    """The catalogue's one-line outcome as data: `(exception type or 'refused', message)`, or else a dict of
    its comma-separated fields."""
    raised = _RAISED.fullmatch(observed)
    if raised:
        return raised.group(1), raised.group(2)
    return dict(_field(f) for f in _fields(observed))


def test_every_case_has_an_exact_expectation():
    assert sorted(EXPECTED) == sorted(name for name, _, _ in CASES)


@pytest.mark.parametrize("name,expected,runner", CASES, ids=[c[0] for c in CASES])
def test_bad_input_case(name, expected, runner, tmp_path):
    observed = run_case(runner, tmp_path)
    assert "\n" not in observed  # one line
    assert expected in observed  # the catalogue's own table (what `python catalogue.py` prints as pass)
    assert parse(observed.replace(str(tmp_path), "<tmp>")) == EXPECTED[name], observed
