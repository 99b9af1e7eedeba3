"""ScienceQA (Hugging Face parquet) -> recipe input for the image pipeline, with images written to disk.

    mindgym-scienceqa --parquet train-00000-of-00001.parquet --out data/scienceqa [--limit 400]

Each kept row becomes {"text", "query", "images": [<abs png path>], "question", "choices", "answer" (the correct
choice's text), "explanation" (the solution), "lecture", "source_index"}. Rows without an image are
skipped and counted; so are rows whose image bytes do not decode."""

import argparse
import io
import json
import os
from collections import Counter
from typing import Dict, Optional

from loguru import logger


def _image_bytes(value) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("bytes")
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return None


def convert(parquet: str, out_dir: str, limit: Optional[int] = None) -> Dict[str, int]:
    """Convert; returns counts {kept, skipped_no_image, skipped_bad_image, skipped_bad_answer}."""
    import pyarrow.parquet as pq
    from PIL import Image

    out_dir = os.path.abspath(out_dir)
    img_dir = os.path.join(out_dir, "images")
    os.makedirs(img_dir, exist_ok=True)
    counts: Counter = Counter()
    table = pq.read_table(parquet)
    missing = {"image", "question", "choices", "answer"} - set(table.column_names)
    if missing:
        raise ValueError(f"{parquet}: not a ScienceQA parquet, missing columns {sorted(missing)}")
    out_path = os.path.join(out_dir, "scienceqa.jsonl")
    with open(out_path, "w", encoding="utf-8") as out:
        for i, row in enumerate(table.to_pylist()):
            if limit is not None and counts["kept"] >= limit:
                break
            data = _image_bytes(row.get("image"))
            if not data:
                counts["skipped_no_image"] += 1
                continue
            try:
                with Image.open(io.BytesIO(data)) as im:
                    im = im.convert("RGB")
                    path = os.path.join(img_dir, f"{i:06d}.png")
                    im.save(path)
            except Exception:
                counts["skipped_bad_image"] += 1
                continue
            choices = list(row.get("choices") or [])
            answer = row.get("answer")
            if not isinstance(answer, int) or not 0 <= answer < len(choices):
                counts["skipped_bad_answer"] += 1
                os.remove(path)
                continue
            # `text` (the question) keeps Data-Juicer's loader from dropping the row; `query` is filled
            # by the multi-hop op and declared here so the recipe's dedup op can name it
            record = {
                "text": row["question"],
                "query": "",
                "images": [path],
                "question": row["question"],
                "choices": choices,
                "answer": choices[answer],
                "explanation": row.get("solution") or "",
                "lecture": row.get("lecture") or "",
                "source_index": i,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts["kept"] += 1
    logger.info(
        f"scienceqa: kept {counts['kept']}, skipped without image {counts['skipped_no_image']}, "
        f"bad image {counts['skipped_bad_image']}, bad answer {counts['skipped_bad_answer']} -> {out_path}"
    )
    return {k: counts[k] for k in ("kept", "skipped_no_image", "skipped_bad_image", "skipped_bad_answer")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="mindgym-scienceqa", description=__doc__.splitlines()[0])
    ap.add_argument("--parquet", required=True, help="a ScienceQA parquet file (HF layout)")
    ap.add_argument("--out", required=True, help="output folder: scienceqa.jsonl + images/")
    ap.add_argument("--limit", type=int, default=None, help="keep at most this many image rows")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.parquet):
        raise SystemExit(f"mindgym-scienceqa: parquet file not found: {a.parquet}")
    print(json.dumps(convert(a.parquet, a.out, a.limit)))


if __name__ == "__main__":
    main()
