import pytest
from tiny_models import build_tiny_qwen2

from mindgym_ops.llm import LLM


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory):
    return build_tiny_qwen2(str(tmp_path_factory.mktemp("models") / "tiny-qwen2"))


def test_hf_batched_generation_matches_one_at_a_time(tiny_qwen2):
    llm = LLM(
        backend="hf",
        model=tiny_qwen2,
        model_params={"batch_size": 4},
        sampling_params={"temperature": 0.0, "max_tokens": 6},
    )
    convs = [
        [{"role": "user", "content": "Hello there, how are you today?"}],
        [{"role": "user", "content": "Hi"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name three colours."}],
    ]
    batched = llm.chat_batch(convs, try_num=1)
    single = [llm.chat_batch([c], try_num=1)[0] for c in convs]
    assert [r.text for r in batched] == [r.text for r in single]  # left padding does not change greedy output
    for r in batched:
        assert r.attempts == 1 and isinstance(r.text, str)  # random weights: text may be blank (a typed EMPTY)
        assert r.usage.prompt_tokens > 5 and 1 <= r.usage.completion_tokens <= 6
        assert r.finish_reason in ("stop", "length")
    # different prompt lengths: the longer prompt counts more tokens
    assert batched[0].usage.prompt_tokens > batched[1].usage.prompt_tokens


def test_hf_text_model_refuses_image_rows_with_a_reason(tiny_qwen2, tmp_path):
    llm = LLM(backend="hf", model=tiny_qwen2, sampling_params={"max_tokens": 2})
    conv = [
        {
            "role": "user",
            "content": [{"type": "image", "image": str(tmp_path / "x.png")}, {"type": "text", "text": "what?"}],
        }
    ]
    res = llm.chat_batch([conv])[0]
    assert res.error is not None and res.error.kind.value == "input"


def test_hf_reports_each_chunk_as_it_finishes(tiny_qwen2):
    """The request cache stores a chunk's replies before the next chunk runs: a crash keeps them."""
    from mindgym_ops.llm.hf import HFBackend

    backend = HFBackend(tiny_qwen2, {"batch_size": 2})
    backend._ensure()
    events = []
    inner = backend._model.generate

    def generate(**kw):
        events.append("generate")
        return inner(**kw)

    backend._model.generate = generate
    convs = [[{"role": "user", "content": f"Count to {i}."}] for i in range(4)]
    replies = backend.generate(convs, {"temperature": 0.0, "max_tokens": 2}, None, lambda i, r: events.append(i))
    assert events == ["generate", 0, 1, "generate", 2, 3]
    assert all(r.usage.prompt_tokens > 5 and r.usage.completion_tokens >= 1 for r in replies)
