"""Image checks and encoding shared by the backends that send pixels."""

import base64
import io
import os
from typing import Any, Dict, List, Optional

from .base import Conversation
from .types import ErrorKind, LLMError

DEFAULT_MAX_PIXELS = 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


def open_image(path: str, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES):
    """Open and fully decode an image; any problem is a typed INPUT error naming the path."""
    from PIL import Image

    if not isinstance(path, str) or not path:
        raise LLMError(ErrorKind.IMAGE, f"image path must be a non-empty string, got {path!r}")
    if not os.path.isfile(path):
        raise LLMError(ErrorKind.IMAGE, f"image not found: {path}")
    size = os.path.getsize(path)
    if size > max_file_bytes:
        raise LLMError(ErrorKind.IMAGE, f"image over the size cap ({size} > {max_file_bytes} bytes): {path}")
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGB")
    except Exception as e:  # PIL raises many types for corrupt files
        raise LLMError(ErrorKind.IMAGE, f"unreadable image {path}: {type(e).__name__}") from None


def image_data_uri(
    path: str, max_pixels: Optional[int] = DEFAULT_MAX_PIXELS, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> str:
    """A base64 PNG data URI, resized (aspect kept) when over the pixel budget."""
    im = open_image(path, max_file_bytes)
    if max_pixels and im.width * im.height > max_pixels:
        scale = (max_pixels / float(im.width * im.height)) ** 0.5
        im = im.resize((max(1, int(im.width * scale)), max(1, int(im.height * scale))))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def openai_messages(
    conversation: Conversation,
    max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> List[Dict[str, Any]]:
    """The conversation in OpenAI's chat format: each image part becomes an `image_url` part holding a
    data URI. An unusable image raises LLMError(IMAGE)."""
    out = []
    for m in conversation:
        c = m.get("content")
        if isinstance(c, list):
            c = [
                (
                    {"type": "image_url", "image_url": {"url": image_data_uri(p["image"], max_pixels, max_file_bytes)}}
                    if p.get("type") == "image"
                    else {"type": "text", "text": p.get("text", "")}
                )
                for p in c
            ]
        out.append({"role": m["role"], "content": c})
    return out
