"""The one image policy of every op: a row's image paths must lie inside `image_root` (default: the working
directory) unless `allow_external_images`; a path outside it is refused before anything reads it, so a crafted row
cannot make an op open any local image and send it to a remote model or into a training set."""

import os
from typing import Any, Dict, List, Optional

from ..llm import ErrorKind, LLMError


class ImagePolicy:
    """Mixed into every op; the op takes `image_root` and `allow_external_images` as `__init__` arguments."""

    image_root: Optional[str] = None
    allow_external_images: bool = False

    def checked_images(self, row: Dict[str, Any]) -> List[str]:
        """The row's image paths; an IMAGE error (a counted per-row reason) for a path that is not a non-empty
        string or lies outside `image_root`."""
        paths = row.get(self.image_key) or []
        root = os.path.realpath(self.image_root or os.getcwd())
        for p in paths:
            if not isinstance(p, str) or not p:
                raise LLMError(ErrorKind.IMAGE, f"image path must be a non-empty string, got {p!r}")
            if not self.allow_external_images and os.path.commonpath([os.path.realpath(p), root]) != root:
                raise LLMError(ErrorKind.IMAGE, f"image outside image_root {root}: {p}")
        return list(paths)
