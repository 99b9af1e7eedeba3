"""One image policy for every op: a row whose image lies outside `image_root` is refused before anything reads the
image or sends it anywhere (a crafted row could otherwise make an op open any local image and send it to a remote
model, or put it into a training set); the reason is counted; `allow_external_images` lifts the refusal."""

import json

import pytest
from data_juicer.utils.constant import Fields
from PIL import Image

from mindgym_ops.ops.mindgym_background_mapper import MindgymBackgroundMapper
from mindgym_ops.ops.mindgym_curriculum_mapper import MindgymCurriculumMapper
from mindgym_ops.ops.mindgym_depth_breadth_filter import MindgymDepthBreadthFilter
from mindgym_ops.ops.mindgym_multihop_qa_mapper import MindgymMultihopQaMapper
from mindgym_ops.ops.mindgym_seed_qa_mapper import MindgymSeedQaMapper
from mindgym_ops.ops.mindgym_self_consistency_filter import MindgymSelfConsistencyFilter

SEEDS = [{"question": "Which bar is tallest?", "answer": "The red bar"}, {"question": "How tall?", "answer": "30"}]


def row(image):
    return {
        "text": None,
        "mindgym_row_id": "r0",
        "images": [image],
        "question": "Which bar is tallest?",
        "answer": "The red bar",
        "background_document": "A bar chart.",
        "sub_questions": SEEDS,
        "relationship_category": "Visual-Textual Alignment",
        "multihop_question": "Which bar is tallest, and how tall is it?",
        "multihop_answer": "The red bar, 30",
        "thinking": "Find the tallest bar, then read its height.",
        Fields.meta: {},
        Fields.stats: {},
    }


def run(op, image):
    samples = {k: [v] for k, v in row(image).items()}
    if hasattr(op, "compute_stats_batched"):
        stats = op.compute_stats_batched(samples)[Fields.stats]
        return list(op.process_batched({Fields.stats: stats}))
    return op.process_batched(samples)["mindgym_row_id"]


OPS = [
    (MindgymBackgroundMapper, {}, "background_image"),
    (MindgymSeedQaMapper, {}, "seed_qa_image"),
    (MindgymMultihopQaMapper, {}, "multihop_image"),
    (MindgymDepthBreadthFilter, {"calibrate": False}, "mindgym_depth_image"),
    (MindgymSelfConsistencyFilter, {}, "mindgym_solve_rate_image"),
]


@pytest.mark.parametrize("cls,args,reason", OPS, ids=[c.__name__ for c, _, _ in OPS])
def test_an_image_outside_image_root_is_refused_before_any_model_call(api_env, tmp_path, cls, args, reason):
    root, outside = tmp_path / "images", tmp_path / "private"
    root.mkdir(), outside.mkdir()
    for folder in (root, outside):
        Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "chart.png")
    op = cls(image_root=str(root), backend="api", model="fake", work_dir=str(tmp_path / "w"), **args)
    kept = run(op, str(outside / "chart.png"))
    assert kept in ([], [False]) and api_env.stats.requests == 0
    assert op.counters.dropped == {reason: 1}
    # the same image inside image_root is read and sent
    op = cls(image_root=str(root), backend="api", model="fake", work_dir=str(tmp_path / "w2"), **args)
    run(op, str(root / "chart.png"))
    assert api_env.stats.requests >= 1 and reason not in op.counters.dropped
    sent = json.dumps(api_env.stats.bodies)
    assert "image_url" in sent or cls is MindgymBackgroundMapper  # the background mapper reads no image


def test_the_curriculum_mapper_leaves_out_a_record_whose_image_is_outside_image_root(tmp_path):
    root, outside = tmp_path / "images", tmp_path / "private"
    root.mkdir(), outside.mkdir()
    op = MindgymCurriculumMapper(split="all", image_root=str(root))
    assert run(op, str(outside / "chart.png")) == []  # training would read it: no stage rows
    assert run(op, str(root / "chart.png")) == ["r0"] * 4
    loose = MindgymCurriculumMapper(split="all", image_root=str(root), allow_external_images=True)
    assert run(loose, str(outside / "chart.png")) == ["r0"] * 4
