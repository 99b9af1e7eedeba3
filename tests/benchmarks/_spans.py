"""A second held-out set for the loop, large enough to see a change: grounded year-span problems made by code.

Each problem is a short invented report with two dated events and distractor numbers (a count, an amount, a
third year), and asks how many years passed between the two events: two lookups and a subtraction, the kind of
question the embedded model's verified records are. Names, places, years and wording are drawn with a fixed seed,
so the set is the same on every run; the answer is worked out by code. Written in the GSM8K layout that
evalscope's gsm8k benchmark scores (document and question in `question`, `#### <years>` at the end of `answer`)."""

import json
import os
import random
from typing import Dict, List

PEOPLE = "Ada Brandt,Tomas Weir,Lena Okafor,Ivo Marsh,Rosa Lind,Karl Quist,Mina Sato,Owen Hale,Petra Novak,Jon Reyes"
PLACES = "Kessa,Halden,Marrow Bay,Elmwood,Dunmore,Ashford,Lake Jackson,Westby,Corran,Tillmouth"
THINGS = [
    ("the grain exchange", "opened", "closed"),
    ("the river dam", "was begun", "was finished"),
    ("the weather station", "was built", "was named"),
    ("the Brandt case", "began", "ended"),
    ("the village school", "was founded", "was rebuilt"),
    ("the ferry line", "started", "stopped"),
    ("the hospital ward", "opened", "was expanded"),
    ("the research lab", "was set up", "moved to a new site"),
]


def span_problem(rng: random.Random) -> Dict[str, str]:
    person, other = rng.sample(PEOPLE.split(","), 2)
    place = rng.choice(PLACES.split(","))
    thing, first, second = rng.choice(THINGS)
    start = rng.randint(1750, 2010)
    end = start + rng.randint(2, 60)
    noise = rng.randint(1750, 2020)
    count, amount = rng.randint(12, 480), rng.randint(2, 90) * 1000
    sentences = [
        f"In {start}, {thing} in {place} {first} under {person}.",
        f"{other} counted {count} visitors there in {noise}.",
        f"The town council spent ${amount:,} on repairs.",
        f"In {end}, {thing} {second}.",
    ]
    if rng.random() < 0.5:  # the order of the facts is not the order of the question
        sentences = sentences[1:3] + [sentences[0], sentences[3]]
    question = f"How many years passed between when {thing} {first} and when it {second}?"
    working = f"{thing.capitalize()} {first} in {start} and {second} in {end}; {end} - {start} = {end - start}."
    return {
        "question": f"Document:\n{' '.join(sentences)}\n\nQuestion: {question}",
        "answer": f"{working}\n#### {end - start}",
    }


def write_spans(out_dir: str, n: int = 40, seed: int = 2026) -> str:
    """Write `n` problems in the GSM8K layout into `out_dir` (README header, main/test.jsonl); returns the folder."""
    rng = random.Random(seed)
    rows: List[Dict[str, str]] = [span_problem(rng) for _ in range(n)]
    os.makedirs(os.path.join(out_dir, "main"), exist_ok=True)
    with open(os.path.join(out_dir, "main", "test.jsonl"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    open(os.path.join(out_dir, "main", "train.jsonl"), "w").close()
    from mindgym_train.heldout import README

    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write(README)
    return out_dir
