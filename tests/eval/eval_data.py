"""Local benchmark copies in the layouts evalscope loads offline (a README `configs:` header names the files)."""

import io
import json

import datasets
from PIL import Image, ImageDraw


def gsm8k_local(root):
    d = root / "gsm8k_local"
    (d / "main").mkdir(parents=True)
    for split in ("test", "train"):
        with open(d / "main" / f"{split}.jsonl", "w") as f:
            for i in range(3):
                f.write(
                    json.dumps(
                        {
                            "question": f"Tom has {i} apples and buys 2 more. How many?",
                            "answer": f"{i} + 2 = {i + 2}\n#### {i + 2}",
                        }
                    )
                    + "\n"
                )
    (d / "README.md").write_text(
        "---\nconfigs:\n- config_name: main\n  data_files:\n  - split: test\n"
        "    path: main/test.jsonl\n  - split: train\n    path: main/train.jsonl\n---\n"
    )
    return d


def mmstar_local(root):
    rows = {k: [] for k in ("index", "question", "image", "answer", "category", "l2_category", "meta_info")}
    for i, (color, letter) in enumerate([("red", "A"), ("blue", "B"), ("green", "C")]):
        im = Image.new("RGB", (56, 56), "white")
        ImageDraw.Draw(im).rectangle([8, 8, 48, 48], fill=color)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        rows["index"].append(i)
        rows["question"].append("What color is the square?\nOptions: A: red, B: blue, C: green, D: yellow")
        rows["image"].append({"bytes": buf.getvalue(), "path": None})
        rows["answer"].append(letter)
        rows["category"].append("coarse perception")
        rows["l2_category"].append("color")
        rows["meta_info"].append({"source": "synthetic", "split": "val", "image_path": f"{color}.png"})
    feats = datasets.Features(
        {
            "index": datasets.Value("int64"),
            "question": datasets.Value("string"),
            "image": datasets.Image(),
            "answer": datasets.Value("string"),
            "category": datasets.Value("string"),
            "l2_category": datasets.Value("string"),
            "meta_info": {
                "source": datasets.Value("string"),
                "split": datasets.Value("string"),
                "image_path": datasets.Value("string"),
            },
        }
    )
    d = root / "mmstar_local"
    d.mkdir()
    datasets.Dataset.from_dict(rows, features=feats).to_parquet(str(d / "val.parquet"))
    (d / "README.md").write_text(
        "---\nconfigs:\n- config_name: val\n  data_files:\n  - split: val\n" "    path: val.parquet\n---\n"
    )
    return d
