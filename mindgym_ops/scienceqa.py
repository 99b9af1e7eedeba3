"""ScienceQA -> recipe input for the image pipeline, with images written to disk.

    mindgym-scienceqa --parquet train-00000-of-00001.parquet --out data/scienceqa [--limit 400]
    mindgym-scienceqa --release ScienceQA/data/scienceqa --split train --out data/scienceqa

Reads the Hugging Face parquet, or the original release layout (problems.json, pid_splits.json and
images/<split>/<pid>/image.png). Rows are written as `mindgym_ops.seed_rows` describes: "answer" is the
correct choice's text, "explanation" the solution, "source" the file and row (parquet) or the pid and split
(release) plus the subject metadata. Rows without an image or question, with an image that does not decode,
or with an answer index outside the choices are skipped and counted."""

import json
import os
from typing import Dict, Optional, Sequence, Union

from .seed_rows import SeedWriter, cli, image_bytes, iter_parquet, run_conversion, source_of

PROG = "mindgym-scienceqa"
NAME = "scienceqa"
REASONS = ("no_image", "bad_image", "bad_answer")
METADATA = ("task", "grade", "subject", "topic", "category", "skill")


def _add(writer: SeedWriter, image: Optional[bytes], row: Dict, source: Dict) -> None:
    choices = [str(c) for c in row.get("choices") or []]
    answer = row.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        writer.skip("bad_answer")
        return
    writer.add(
        image,
        row.get("question"),
        choices[answer],
        source_of(row, METADATA, **source),
        choices=choices,
        explanation=row.get("solution") or "",
        lecture=row.get("lecture") or "",
    )


def convert(parquet: Union[str, Sequence[str]], out_dir: str, limit: Optional[int] = None) -> Dict[str, int]:
    """The Hugging Face parquet file(s); returns {kept, skipped_<reason>: n}."""
    paths = [parquet] if isinstance(parquet, str) else list(parquet)
    with SeedWriter(out_dir, NAME, limit, REASONS) as writer:
        for name, i, row in iter_parquet(paths, ("image", "question", "choices", "answer"), "a ScienceQA parquet"):
            if writer.full:
                break
            _add(writer, image_bytes(row.get("image")), row, {"dataset": NAME, "file": name, "row": i})
    return writer.summary()


def _load_json(path: str, what: str):
    if not os.path.isfile(path):
        raise ValueError(f"not a ScienceQA release folder: {what} not found at {path}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def convert_release(root: str, out_dir: str, split: str = "train", limit: Optional[int] = None) -> Dict[str, int]:
    """The original release layout; `split` is a key of pid_splits.json (train, val, test, minival, ...)."""
    problems = _load_json(os.path.join(root, "problems.json"), "problems.json")
    splits = _load_json(os.path.join(root, "pid_splits.json"), "pid_splits.json")
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)} (the keys of pid_splits.json), got {split!r}")
    with SeedWriter(out_dir, NAME, limit, REASONS) as writer:
        for pid in map(str, splits[split]):
            if writer.full:
                break
            row = problems.get(pid)
            if not isinstance(row, dict):
                writer.skip("unknown_pid")
                continue
            # a problem's image lies under its own split (val for a minival pid)
            where = row.get("split") or split
            image = None
            if row.get("image"):
                path = os.path.join(root, "images", where, pid, row["image"])
                if not os.path.isfile(path):
                    writer.skip("image_file_missing")
                    continue
                with open(path, "rb") as f:
                    image = f.read()
            _add(writer, image, row, {"dataset": NAME, "pid": pid, "split": where})
    return writer.summary()


def _inputs(ap) -> None:
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--parquet", nargs="+", help="ScienceQA parquet file(s) (Hugging Face layout)")
    src.add_argument("--release", help="the original release folder (problems.json, pid_splits.json, images/)")
    ap.add_argument("--split", help="with --release: a key of pid_splits.json (default: train)")


def main(argv=None) -> None:
    args = cli(PROG, __doc__.splitlines()[0], _inputs, argv)
    if args.parquet and args.split:
        raise SystemExit(f"{PROG}: --split applies to --release only (a parquet file is one split)")
    if args.parquet:
        run_conversion(PROG, convert, args.parquet, args.out, args.limit)
    elif not os.path.isdir(args.release):
        raise SystemExit(f"{PROG}: release folder not found: {args.release}")
    else:
        run_conversion(PROG, convert_release, args.release, args.out, args.split or "train", args.limit)


if __name__ == "__main__":
    main()
