"""OK-VQA (Hugging Face parquet) -> recipe input for the image pipeline, with images written to disk.

    mindgym-okvqa --parquet val2014-00000-of-00002.parquet val2014-00001-of-00002.parquet --out data/okvqa

Reads lmms-lab/OK-VQA (`question_id`, `question`, `answers`: ten human answers, `question_type`,
`answer_type`, `image`). Rows are written as `mindgym_ops.seed_rows` describes: "answer" is the most frequent
human answer (the first given wins a tie), "answers" all of them, "source" the file, row, question id and
types. Rows without an image, question or answer, or with an image that does not decode, are skipped and
counted."""

from collections import Counter
from typing import Dict, Optional, Sequence, Union

from .seed_rows import SeedWriter, cli, image_bytes, iter_parquet, listed, run_conversion, source_of

PROG = "mindgym-okvqa"
NAME = "okvqa"
REASONS = ("no_image", "no_question", "no_answer", "bad_image")
METADATA = ("question_id", "question_type", "answer_type")


def convert(parquet: Union[str, Sequence[str]], out_dir: str, limit: Optional[int] = None) -> Dict[str, int]:
    """The Hugging Face parquet file(s); returns {kept, skipped_<reason>: n}."""
    paths = [parquet] if isinstance(parquet, str) else list(parquet)
    with SeedWriter(out_dir, NAME, limit, REASONS) as writer:
        for name, i, row in iter_parquet(paths, ("image", "question", "answers"), "an OK-VQA parquet"):
            if writer.full:
                break
            answers = listed(row.get("answers"))
            if not answers:
                writer.skip("no_answer")
                continue
            writer.add(
                image_bytes(row.get("image")),
                row.get("question"),
                Counter(answers).most_common(1)[0][0],
                source_of(row, METADATA, dataset="ok-vqa", file=name, row=i),
                answers=answers,
            )
    return writer.summary()


def _inputs(ap) -> None:
    ap.add_argument("--parquet", nargs="+", required=True, help="OK-VQA parquet file(s) (lmms-lab/OK-VQA layout)")


def main(argv=None) -> None:
    args = cli(PROG, __doc__.splitlines()[0], _inputs, argv)
    run_conversion(PROG, convert, args.parquet, args.out, args.limit)


if __name__ == "__main__":
    main()
