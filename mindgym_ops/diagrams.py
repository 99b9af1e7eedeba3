"""Our own demo diagrams, drawn by code: a bar chart, a right triangle, labelled shapes, a line chart.

    python -m mindgym_ops.diagrams mindgym_ops/data/diagrams   (regenerates the bundled set)

Each image comes with a ScienceQA-style question, answer and explanation in diagrams.jsonl
(image paths relative to that file, which Data-Juicer resolves against the dataset folder)."""

import json
import os
import sys

from PIL import Image, ImageDraw

W, H = 320, 240


def _canvas():
    im = Image.new("RGB", (W, H), "white")
    return im, ImageDraw.Draw(im)


def bar_chart():
    im, d = _canvas()
    values = {"Mon": 40, "Tue": 90, "Wed": 60, "Thu": 120}
    d.line([(30, 210), (300, 210)], fill="black", width=2)
    d.line([(30, 20), (30, 210)], fill="black", width=2)
    for i, (day, v) in enumerate(values.items()):
        x = 50 + i * 62
        d.rectangle([x, 210 - v, x + 40, 210], fill=(70, 110, 200))
        d.text((x + 8, 215), day, fill="black")
        d.text((x + 8, 195 - v), str(v), fill="black")
    d.text((90, 5), "Bicycles sold per day", fill="black")
    return im, {
        "question": "On which day were the most bicycles sold, and how many more than on Monday?",
        "answer": "Thursday, 80 more",
        "explanation": "Thursday's bar reaches 120 and Monday's 40; 120 - 40 = 80.",
    }


def right_triangle():
    im, d = _canvas()
    a, b, c = (60, 200), (260, 200), (60, 50)
    d.polygon([a, b, c], outline="black", width=3)
    d.rectangle([60, 185, 75, 200], outline="black")
    d.text((150, 205), "8 cm", fill="black")
    d.text((20, 120), "6 cm", fill="black")
    d.text((165, 110), "?", fill="red")
    return im, {
        "question": "What is the length of the side marked with a question mark?",
        "answer": "10 cm",
        "explanation": "The triangle is right-angled, so the hypotenuse is sqrt(6^2 + 8^2) = 10.",
    }


def labelled_shapes():
    im, d = _canvas()
    d.ellipse([20, 60, 110, 150], fill=(220, 60, 60))
    d.text((50, 155), "A", fill="black")
    d.rectangle([130, 60, 210, 140], fill=(60, 160, 80))
    d.text((165, 155), "B", fill="black")
    d.polygon([(240, 150), (300, 150), (270, 60)], fill=(60, 90, 220))
    d.text((265, 155), "C", fill="black")
    return im, {
        "question": "Which labelled shape has exactly three corners, and what colour is it?",
        "answer": "C, blue",
        "explanation": "Shape C is a triangle (three corners) and is filled blue.",
    }


def line_chart():
    im, d = _canvas()
    temps = [4, 7, 12, 18, 23, 21]
    d.line([(30, 210), (300, 210)], fill="black", width=2)
    d.line([(30, 20), (30, 210)], fill="black", width=2)
    pts = [(50 + i * 48, 210 - t * 8) for i, t in enumerate(temps)]
    d.line(pts, fill=(200, 80, 40), width=3)
    for (x, y), t, m in zip(pts, temps, ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]):
        d.ellipse([x - 3, y - 3, x + 3, y + 3], fill="black")
        d.text((x - 8, 215), m, fill="black")
        d.text((x - 4, y - 14), str(t), fill="black")
    d.text((80, 5), "Average temperature (C)", fill="black")
    return im, {
        "question": "Between which two consecutive months did the temperature rise the most?",
        "answer": "March to April (+6 C)",
        "explanation": "Rises: +3, +5, +6, +5, -2; the largest is March to April.",
    }


DIAGRAMS = {
    "bar_chart": bar_chart,
    "right_triangle": right_triangle,
    "labelled_shapes": labelled_shapes,
    "line_chart": line_chart,
}


def write(out_dir: str) -> str:
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "diagrams.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for name, draw in DIAGRAMS.items():
            im, qa = draw()
            im.save(os.path.join(out_dir, f"{name}.png"))
            f.write(json.dumps({"query": "", "images": [f"{name}.png"], "text": qa["question"], **qa}) + "\n")
    return path


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else "diagrams"))
