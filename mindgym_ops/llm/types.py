"""The one result type every backend returns and every op reads."""

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, Optional


class ErrorKind(str, Enum):
    """Why a model call produced no usable answer; the value is the counted drop reason."""

    TRANSPORT = "transport"  # the request failed after every transport retry
    EMPTY = "empty"  # the server answered with no choices or an empty message
    TRUNCATED = "truncated"  # the reply was cut at max_tokens and does not parse
    PARSE = "parse"  # no JSON object could be extracted from the reply
    VALIDATION = "validation"  # JSON found, but it does not match the schema
    INPUT = "input"  # the row itself is unusable (empty text, wrong type, prompt too long, ...)
    IMAGE = "image"  # an image is missing, unreadable, corrupt, over the size cap or outside image_root


class LLMError(Exception):
    """A typed failure of one model call; `kind` is the counted reason."""

    def __init__(self, kind: ErrorKind, message: str, code: Optional[str] = None):
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.message = message
        self.code = code  # a finer reason than the kind (a substance check's name), counted in its place

    @property
    def reason(self) -> str:
        return self.code or self.kind.value

    def to_dict(self) -> Dict[str, str]:
        return {"kind": self.kind.value, "message": self.message[:500], **({"code": self.code} if self.code else {})}


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: "Usage") -> "Usage":
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        return self

    def to_dict(self) -> Dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass
class RawReply:
    """What a backend returns for one conversation: text or a transport-level error."""

    text: Optional[str] = None
    usage: Usage = field(default_factory=Usage)
    finish_reason: Optional[str] = None
    error: Optional[LLMError] = None

    @classmethod
    def of(cls, text: Any, usage: "Usage", finish_reason: Optional[str]) -> "RawReply":
        """A completed reply; a missing or blank text is a typed EMPTY error."""
        if not isinstance(text, str) or not text.strip():
            return cls(
                text=text if isinstance(text, str) else None,
                usage=usage,
                finish_reason=finish_reason,
                error=LLMError(ErrorKind.EMPTY, "reply message is empty"),
            )
        return cls(text=text, usage=usage, finish_reason=finish_reason)

    def to_json(self) -> Dict[str, Any]:
        return {"text": self.text, "usage": self.usage.to_dict(), "finish_reason": self.finish_reason}

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "RawReply":
        return cls(text=d["text"], usage=Usage(**d["usage"]), finish_reason=d["finish_reason"])


@dataclass
class ChatResult:
    """One conversation's outcome: text, the parsed object or a typed error, usage, finish reason.

    `usage` sums every attempt made for this conversation (parse retries included), so token
    accounting per record is honest."""

    text: Optional[str] = None
    parsed: Any = None
    error: Optional[LLMError] = None
    usage: Usage = field(default_factory=Usage)
    finish_reason: Optional[str] = None
    attempts: int = 0
    cached: bool = False  # at least one attempt was answered from the request cache
    sent: int = 0  # attempts actually sent to the model (the others came from the cache)

    @property
    def ok(self) -> bool:
        return self.error is None
