"""The one model layer every LLM op goes through. Heavy runtimes load lazily inside backends."""

from .client import BACKENDS, DEFAULT_BACKEND, LLM, resolve_backend_and_model
from .parsing import TextSchema, extract_json, parse_reply
from .types import ChatResult, ErrorKind, LLMError, RawReply, Usage

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "LLM",
    "ChatResult",
    "ErrorKind",
    "LLMError",
    "RawReply",
    "TextSchema",
    "Usage",
    "extract_json",
    "parse_reply",
    "resolve_backend_and_model",
]
