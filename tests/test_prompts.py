"""Golden renders of every prompt template (en and zh), and the init-time variable check.

Regenerate after an intended template change: MINDGYM_UPDATE_GOLDEN=1 python -m pytest tests/test_prompts.py"""

import os

import pytest
from helpers import ROOT

from mindgym_ops.ops.wording import PRINCIPLE_HELP
from mindgym_ops.prompts import available, load_template

GOLDEN = ROOT / "tests" / "golden"
SEEDS = [
    {"question": "Who measured the units on Monday?", "answer": "Mara Quist"},
    {"question": "On which day did the council meet?", "answer": "Thursday"},
]
VARIABLES = {
    "category": "Historical Events",
    "setting_hint": "a port city in the 1800s",
    "background": "In 1847 the port of Halden opened a grain exchange.",
    "max_seeds": 5,
    "principles": ["Bridging", "Comparison", "Temporal"],
    "original_question": "Which magnet attracts?",
    "original_answer": "The left one",
    "explanation": "Opposite poles attract.",
    "sources": [
        {
            "background": "Doc A.",
            "principle": "Bridging",
            "sub_questions": SEEDS,
            "bridges": [{"from": 1, "to": 2, "value": "Mara Quist"}],
            "draft": None,
        },
        {
            "background": "Doc B.",
            "principle": "Temporal",
            "sub_questions": SEEDS[:1],
            "bridges": [],
            "draft": "Which happened earlier: the council met, or Mara Quist measured the units?",
            "draft_answer": "Mara Quist measured the units",
        },
    ],
    "question": "When does the council first hear of it?",
    "context": "In 1847 the port of Halden opened a grain exchange; the council meets on Thursdays.",
    "answer": "The following Thursday.",
    "sub_questions": SEEDS,
    "reference": "The following Thursday.",
    "attempts": ["Thursday", "Monday"],
    "thinking": "Relate the days, then apply the rule.",
    "dimension": "depth",
    "answer_a": "Thursday, since the rule gives three days.",
    "answer_b": "Thursday.",
    "reason": "the question repeats single-hop question 1",
    "structured": True,
    "document": "In 1847 the port of Halden opened a grain exchange; the council meets on Thursdays.",
    "thinking_first": False,
}
URL = {"base_url": "http://127.0.0.1:9/v1"}
CASES = [(lang, name) for lang in ("en", "zh") for name in available(lang)]


def test_every_template_exists_in_both_languages():
    assert set(available("en")) == set(available("zh"))
    assert len(CASES) >= 2 * 12


@pytest.mark.parametrize("lang,name", CASES)
def test_golden_render(lang, name):
    template = load_template(name, lang, list(VARIABLES) + ["principle_help"])
    help_ = {"principle_help": PRINCIPLE_HELP[lang]}
    text = template.render(**VARIABLES, **help_)
    path = GOLDEN / f"{lang}_{name}.txt"
    if os.environ.get("MINDGYM_UPDATE_GOLDEN"):
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")
    assert "{{" not in text and "{%" not in text and template.version != "custom"


def test_override_with_a_missing_variable_fails_at_init(tmp_path):
    from mindgym_ops.ops.mindgym_seed_qa_mapper import MindgymSeedQaMapper

    with pytest.raises(ValueError, match=r"uses undefined variables \['tone'\]"):
        MindgymSeedQaMapper(
            backend="api",
            model="fake",
            model_params=URL,
            prompt_templates={"seed_qa_text": "Write {{ max_seeds }} questions in a {{ tone }} tone."},
        )
    custom = tmp_path / "seed.j2"
    custom.write_text("{# version: 7 #}\nFrom {{ background }} write {{ max_seeds }} questions.")
    op = MindgymSeedQaMapper(
        backend="api", model="fake", model_params=URL, prompt_templates={"seed_qa_text": str(custom)}
    )
    assert op.templates["seed_qa_text"].provenance() == f"seed_qa_text@7 ({custom})"
    with pytest.raises(ValueError, match="unknown names"):
        MindgymSeedQaMapper(backend="api", model="fake", model_params=URL, prompt_templates={"judge": "x"})
