"""Seed-set inputs as published, built in a temporary folder: an OK-VQA parquet (lmms-lab/OK-VQA's columns and
types) and ScienceQA's original release layout."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def encoded(color, fmt="PNG", size=(24, 16)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def okvqa_parquet(path):
    """lmms-lab/OK-VQA's columns and types: question_id string, answers list<string>, image {bytes, path}."""
    fruit = encoded((200, 30, 30), "JPEG", (32, 24))
    rows = [
        # (question_id, image, question, answers)
        ("2971475", fruit, "What fruit is shown?", ["apple"] * 6 + ["fruit"] * 4),
        ("2971476", fruit, "What color is the fruit?", ["red", "red", "maroon", "maroon"] + ["red"] * 3 + ["dark"] * 3),
        ("2971477", None, "What is missing here?", ["nothing"] * 10),
        ("2971478", encoded("blue"), "", ["sky"] * 10),
        ("2971479", b"\xff\xd8\xff not a jpeg", "What is broken?", ["pixels"] * 10),
        ("2971480", encoded("green"), "What has no answer?", []),
        ("2971481", encoded((0, 0, 220)), "Which sport uses this court?", ["tennis"] * 5 + ["badminton"] * 5),
    ]
    table = pa.table(
        {
            "question_id": pa.array([r[0] for r in rows], pa.string()),
            "image": pa.array([{"bytes": r[1], "path": None} if r[1] else None for r in rows], IMAGE_TYPE),
            "question": pa.array([r[2] for r in rows], pa.string()),
            "answers": pa.array([r[3] for r in rows], pa.list_(pa.string())),
            "question_type": pa.array(["eight"] * len(rows), pa.string()),
            "answer_type": pa.array(["other"] * len(rows), pa.string()),
        }
    )
    pq.write_table(table, path)
    return path


def scienceqa_release(root):
    """problems.json, pid_splits.json and images/<split>/<pid>/image.png as the original release ships them."""

    def problem(i, split, image="image.png", answer=0):
        return {
            "question": f"Which magnet {i} pulls harder?",
            "choices": ["the left one", "the right one"],
            "answer": answer,
            "hint": "",
            "image": image,
            "task": "closed choice",
            "grade": "grade4",
            "subject": "natural science",
            "topic": "physics",
            "category": "Magnets",
            "skill": "Compare magnitudes of magnetic forces",
            "lecture": "Magnets pull harder when they are closer.",
            "solution": f"Magnet {i}'s pair is closer, so the {['left', 'right'][answer % 2]} one pulls harder.",
            "split": split,
        }

    problems = {
        "1": problem(1, "train"),
        "2": problem(2, "train", answer=5),  # index outside the choices
        "3": problem(3, "train", image=None),  # a text-only question
        "4": problem(4, "train"),  # listed image, file never downloaded
        "7": problem(7, "train", answer=1),
        "5": problem(5, "val"),
    }
    splits = {"train": ["1", "2", "3", "4", "7"], "val": ["5"], "test": [], "minival": ["5"]}
    root.mkdir()
    (root / "problems.json").write_text(json.dumps(problems))
    (root / "pid_splits.json").write_text(json.dumps(splits))
    for pid, color in (("1", "red"), ("2", "yellow"), ("7", "orange"), ("5", "purple")):
        folder = root / "images" / problems[pid]["split"] / pid
        folder.mkdir(parents=True)
        (folder / "image.png").write_bytes(encoded(color))
    return root
