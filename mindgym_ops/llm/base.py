"""What every backend implements, and the neutral message format ops write.

Messages are OpenAI-style dicts. `content` is a string, or a list of parts
`{"type": "text", "text": ...}` and `{"type": "image", "image": <path>}`; each backend turns
image parts into what its runtime wants (data URIs, PIL images, processor inputs)."""

from typing import Any, Callable, Dict, List, Optional

from . import engines
from .process_local import ProcessLocal
from .types import RawReply

Message = Dict[str, Any]
Conversation = List[Message]
OnReply = Callable[[int, RawReply], None]


def has_images(conversation: Conversation) -> bool:
    return any(
        isinstance(m.get("content"), list) and any(p.get("type") == "image" for p in m["content"]) for m in conversation
    )


def image_paths(conversation: Conversation) -> List[str]:
    return [
        p["image"]
        for m in conversation
        if isinstance(m.get("content"), list)
        for p in m["content"]
        if p.get("type") == "image"
    ]


def flatten_text(conversation: Conversation) -> Conversation:
    """The conversation with every content reduced to its text (for text-only runtimes)."""
    out = []
    for m in conversation:
        c = m.get("content")
        if isinstance(c, list):
            c = "".join(p.get("text", "") for p in c if p.get("type") == "text")
        out.append({"role": m["role"], "content": c})
    return out


class Backend(ProcessLocal):
    """A runtime that turns a batch of conversations into raw replies.

    Transport-level retries live here (per backend); parse retries live in `LLM`. A backend with an
    in-process engine gets it from the registry (engines.py) as `self._engine` after `self._ensure()`."""

    name = "base"
    _handles = ("_engine",)

    def __init__(self, model: str, model_params: Dict[str, Any]):
        self.model = model
        self.model_params = dict(model_params)
        self._reset()

    def generate(
        self,
        conversations: List[Conversation],
        sampling: Dict[str, Any],
        schema: Optional[Dict[str, Any]],
        on_reply: Optional[OnReply] = None,
        request_ids: Optional[List[str]] = None,
    ) -> List[RawReply]:
        """`request_ids` (the cache keys) let a server or a trace tie a request to its row and attempt."""
        raise NotImplementedError

    def engine_params(self) -> Optional[Dict[str, Any]]:
        """What the engine is loaded with (two ops whose params match share one engine), or None for a
        backend without an in-process engine."""
        return None

    @property
    def engine_key(self) -> Optional[str]:
        params = self.engine_params()
        return None if params is None else engines.engine_key(self.name, self.model, params)

    def _load(self) -> Any:
        """Build the engine; the registry calls it once per process for every backend with this key."""
        raise NotImplementedError

    @staticmethod
    def _unload(engine: Any) -> None:
        """Free what the engine holds outside Python's memory before the registry drops it."""

    def _open(self) -> None:
        self._engine = engines.get(self.engine_key, self._load, self._unload)

    def close(self) -> None:
        """Forget this process's handles; the engine itself belongs to the registry."""
        self._reset()
