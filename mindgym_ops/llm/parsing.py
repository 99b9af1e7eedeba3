"""Tolerant JSON extraction and schema validation of model replies."""

import json
import re
from typing import Any, Optional, Tuple, Type, Union

from pydantic import BaseModel, ValidationError

from ..rules.words import CJK
from .types import ErrorKind, LLMError

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


def extract_json(text: Optional[str]) -> Any:
    """Return the first JSON object in `text`: fenced block, bare object, or one wrapped in prose.

    Raises LLMError(PARSE) when there is none."""
    if text is None or not text.strip():
        raise LLMError(ErrorKind.EMPTY, "empty reply")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for chunk in candidates:
        start = chunk.find("{")
        while start != -1:
            try:
                obj, _ = _DECODER.raw_decode(chunk, start)
            except json.JSONDecodeError:
                start = chunk.find("{", start + 1)
                continue
            if isinstance(obj, dict):
                return obj
            start = chunk.find("{", start + 1)
    raise LLMError(ErrorKind.PARSE, f"no JSON object in reply: {text[:120]!r}")


class TextSchema:
    """A plain-text reply (no JSON): trimmed, a cut-off last sentence dropped, a minimum length checked."""

    def __init__(self, name: str, min_words: int = 30):
        self.__name__ = name
        self.min_words = min_words

    def validate(self, text: Optional[str], finish_reason: Optional[str]) -> str:
        if text is None or not text.strip():
            raise LLMError(ErrorKind.EMPTY, "empty reply")
        text = _LABEL.sub("", text.strip()).strip().strip('"').strip()
        if finish_reason == "length":
            end = max(text.rfind(c) for c in ".!?。！？")
            text = text[: end + 1] if end > 0 else text
        words = len(text.split()) + len(CJK.findall(text)) // 2
        if words < self.min_words:
            kind = ErrorKind.TRUNCATED if finish_reason == "length" else ErrorKind.VALIDATION
            raise LLMError(kind, f"reply has {words} words, fewer than {self.min_words}")
        return text


_LABEL = re.compile(r"^(\*\*)?(background( document)?|document|背景文档)(\*\*)?\s*[:：]\s*", re.IGNORECASE)


def parse_reply(
    text: Optional[str], schema: Union[Type[BaseModel], TextSchema], finish_reason: Optional[str] = None
) -> Tuple[Any, Optional[LLMError]]:
    """Extract and validate; a reply cut at max_tokens that fails is reported as TRUNCATED."""
    if isinstance(schema, TextSchema):
        try:
            return schema.validate(text, finish_reason), None
        except LLMError as e:
            return None, e
    try:
        obj = extract_json(text)
        return schema.model_validate(obj), None
    except LLMError as e:
        err = e
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        err = LLMError(ErrorKind.VALIDATION, f"{loc}: {first.get('msg')}")
    if finish_reason == "length" and err.kind != ErrorKind.EMPTY:
        err = LLMError(ErrorKind.TRUNCATED, f"reply cut at max_tokens ({err.message})")
    return None, err
