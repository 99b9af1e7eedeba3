"""What every backend implements, and the neutral message format ops write.

Messages are OpenAI-style dicts. `content` is a string, or a list of parts
`{"type": "text", "text": ...}` and `{"type": "image", "image": <path>}`; each backend turns
image parts into what its runtime wants (data URIs, PIL images, processor inputs)."""

from typing import Any, Callable, Dict, List, Optional

from .types import RawReply

Message = Dict[str, Any]
Conversation = List[Message]
OnReply = Callable[[int, RawReply], None]

SAMPLING_KEYS = ("temperature", "top_p", "top_k", "max_tokens", "seed", "repetition_penalty", "stop")


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


class Backend:
    """A runtime that turns a batch of conversations into raw replies.

    Transport-level retries live here (per backend); parse retries live in `LLM`."""

    name = "base"

    def __init__(self, model: str, model_params: Dict[str, Any]):
        self.model = model
        self.model_params = dict(model_params)

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
        from .engines import engine_key

        params = self.engine_params()
        return None if params is None else engine_key(self.name, self.model, params)

    def close(self) -> None:
        """Release what the runtime holds outside the engine registry (connections)."""
