"""The report page: one HTML file with inline CSS, inline SVG charts and images as data URIs; no scripts,
no fonts or anything else fetched. All text from the run is escaped (Jinja autoescape): it is model output."""

import base64
import io
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from jinja2 import Environment
from loguru import logger

THUMB_PX = 320
# installed fonts only, Latin first, then the common CJK families of each platform: nothing is downloaded
FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", '
    '"WenQuanYi Zen Hei", "Droid Sans Fallback", sans-serif'
)

TEMPLATE = Path(__file__).with_name("report.html.j2")  # package data beside this module


def thumbnail(path: str, roots: Iterable[Path]) -> Optional[str]:
    """A downscaled JPEG data URI of the image, looked up as given, then under each root; None if unreadable."""
    from PIL import Image

    candidates = [Path(path)] if Path(path).is_absolute() else [Path(r) / path for r in roots]
    for p in candidates:
        if p.is_file():
            try:
                with Image.open(p) as im:
                    im = im.convert("RGB")
                    im.thumbnail((THUMB_PX, THUMB_PX))
                    buf = io.BytesIO()
                    im.save(buf, "JPEG", quality=82)
            except OSError as e:
                logger.warning(f"image {p} not shown: {e}")
                return None
            return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    return None


def render(context: Dict[str, Any], image_roots: List[Path]) -> str:
    for e in context["examples"] + [e for d in context.get("dropped") or [] for e in d["rows"]]:
        e["images"] = [{"name": Path(p).name, "uri": thumbnail(p, image_roots)} for p in e["images"]]
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(thumb_px=THUMB_PX, font_stack=FONT_STACK, **context)
