"""Image seed rows for the image recipe, written one way for every seed set (ScienceQA in both layouts, OK-VQA).

Each kept row is {"text", "query", "images": [<abs image path>], "question", "answer", "answers", "choices",
"explanation", "lecture", "source"} with the same types on every row of every set, so converted sets can be
mixed in one dataset. `source` is a JSON string naming the set and the row it came from. Images are stored
once per content under <out>/images/; JPEG and PNG keep their original bytes, other formats become PNG."""

import argparse
import hashlib
import io
import json
import os
from collections import Counter
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import jsonlines
from loguru import logger

IMAGE_DIR = "images"
KEPT_AS_IS = {"JPEG": "jpg", "PNG": "png"}


def image_bytes(value: Any) -> Optional[bytes]:
    """The bytes of a Hugging Face image cell ({bytes, path} struct) or of raw bytes; None when absent."""
    if isinstance(value, dict):
        value = value.get("bytes")
    if isinstance(value, (bytes, bytearray)) and value:
        return bytes(value)
    return None


def iter_parquet(paths: Sequence[str], required: Sequence[str], what: str) -> Iterator[Tuple[str, int, Dict]]:
    """(file name, row number in that file, row) over every file, a batch at a time: image sets do not fit in memory."""
    import pyarrow.parquet as pq

    for path in paths:
        try:
            pf = pq.ParquetFile(path)
        except ValueError as e:  # pyarrow's ArrowInvalid: not parquet at all
            raise ValueError(f"{path}: not a parquet file ({e})") from None
        missing = set(required) - set(pf.schema_arrow.names)
        if missing:
            raise ValueError(f"{path}: not {what}, missing columns {sorted(missing)}")
        index = 0
        for batch in pf.iter_batches(batch_size=256):
            for row in batch.to_pylist():
                yield os.path.basename(path), index, row
                index += 1


class SeedWriter:
    """Writes <out>/<name>.jsonl and the images; counts every skipped row by reason.

    `reasons` are the skip reasons always reported (as `skipped_<reason>`, 0 included); any other reason
    is reported once it occurs."""

    def __init__(self, out_dir: str, name: str, limit: Optional[int] = None, reasons: Sequence[str] = ()):
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be a positive integer, got {limit!r}")
        self.name = name
        self.out_dir = os.path.abspath(out_dir)
        self.image_dir = os.path.join(self.out_dir, IMAGE_DIR)
        self.path = os.path.join(self.out_dir, f"{name}.jsonl")
        self.limit = limit
        self.reasons = list(reasons)
        self.counts: Counter = Counter()
        self._out: Optional[jsonlines.Writer] = None

    def __enter__(self) -> "SeedWriter":
        os.makedirs(self.image_dir, exist_ok=True)
        self._out = jsonlines.open(self.path, "w")  # UTF-8, non-ASCII text kept as it is
        return self

    def __exit__(self, *exc) -> None:
        self._out.close()
        if exc[0] is None:
            skipped = ", ".join(f"{k[8:]} {v}" for k, v in self.summary().items() if k != "kept") or "none"
            logger.info(f"{self.name}: kept {self.counts['kept']}, skipped: {skipped} -> {self.path}")

    @property
    def full(self) -> bool:
        return self.limit is not None and self.counts["kept"] >= self.limit

    def skip(self, reason: str) -> None:
        self.counts[reason] += 1

    def summary(self) -> Dict[str, int]:
        reasons = self.reasons + [r for r in self.counts if r != "kept" and r not in self.reasons]
        return {"kept": self.counts["kept"], **{f"skipped_{r}": self.counts[r] for r in reasons}}

    def _store_image(self, data: bytes) -> Optional[str]:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                im.load()
                ext = KEPT_AS_IS.get(im.format or "")
                path = os.path.join(self.image_dir, f"{hashlib.sha256(data).hexdigest()[:24]}.{ext or 'png'}")
                if os.path.exists(path):
                    return path
                tmp = path + ".part"  # a crash mid-write must not leave a truncated image a rerun would reuse
                if ext:
                    with open(tmp, "wb") as f:
                        f.write(data)
                else:
                    im.convert("RGB").save(tmp, format="PNG")
        except Exception:  # PIL raises many types for undecodable bytes
            return None
        os.replace(tmp, path)
        return path

    def add(
        self,
        image: Optional[bytes],
        question: Any,
        answer: str,
        source: Dict[str, Any],
        answers: Sequence[str] = (),
        choices: Sequence[str] = (),
        explanation: str = "",
        lecture: str = "",
    ) -> bool:
        """Write one row; False (and counted) when it has no image or question or its image does not decode."""
        if image is None:
            self.skip("no_image")
            return False
        if not isinstance(question, str) or not question.strip():
            self.skip("no_question")
            return False
        path = self._store_image(image)
        if path is None:
            self.skip("bad_image")
            return False
        # `text` (the question) keeps Data-Juicer's loader from dropping the row; `query` is filled by the
        # multi-hop op and declared here so the recipe's dedup op can name it
        record = {
            "text": question,
            "query": "",
            "images": [path],
            "question": question,
            "answer": answer,
            "answers": list(answers) or [answer],
            "choices": list(choices),
            "explanation": explanation or "",
            "lecture": lecture or "",
            "source": json.dumps(source, ensure_ascii=False, sort_keys=True),
        }
        self._out.write(record)
        self.counts["kept"] += 1
        return True


def cli(prog: str, description: str, add_inputs: Callable[[argparse.ArgumentParser], None], argv=None):
    """Parse the common --out/--limit plus the set's own inputs; returns the parsed args."""
    ap = argparse.ArgumentParser(prog=prog, description=description)
    add_inputs(ap)
    ap.add_argument("--out", required=True, help="output folder: <set>.jsonl + images/")
    ap.add_argument("--limit", type=int, default=None, help="keep at most this many rows")
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        raise SystemExit(f"{prog}: --limit must be a positive integer, got {args.limit}")
    for path in getattr(args, "parquet", None) or []:
        if not os.path.isfile(path):
            raise SystemExit(f"{prog}: parquet file not found: {path}")
    return args


def run_conversion(prog: str, convert: Callable[..., Dict[str, int]], *args: Any) -> None:
    """Run a conversion and print its counts as one JSON line; a bad input is one line on stderr and exit 1."""
    try:
        counts = convert(*args)
    except (ValueError, OSError) as e:  # pyarrow's ArrowInvalid and json's decode errors are ValueErrors
        raise SystemExit(f"{prog}: {e}") from None
    print(json.dumps(counts))


def source_of(row: Dict[str, Any], keys: Sequence[str], /, **fixed: Any) -> Dict[str, Any]:
    """Provenance: the fixed fields plus the row's own `keys` that are present."""
    return {**fixed, **{k: row[k] for k in keys if row.get(k) not in (None, "")}}


def listed(values: Any) -> List[str]:
    """A list cell as stripped non-empty strings (Arrow gives None for a null list)."""
    return [v.strip() for v in values or [] if isinstance(v, str) and v.strip()]
