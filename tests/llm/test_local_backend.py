import pytest

from mindgym_ops.llm import LLM, packaged
from mindgym_ops.schemas import DepthBreadth


def test_smollm2_through_llama_cpp_returns_schema_valid_json(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDGYM_CACHE", str(tmp_path))
    llm = LLM(backend="local", model="smollm2", sampling_params={"temperature": 0.0, "max_tokens": 400, "seed": 0})
    convs = [
        [
            {
                "role": "user",
                "content": "List the reasoning steps and the knowledge areas needed to answer "
                "'Why is the sky blue?' Reply with JSON: "
                '{"steps": ["..."], "knowledge_areas": ["..."]}',
            }
        ]
    ] * 2
    res = llm.chat_batch(convs, schema=DepthBreadth, keys=["a", "b"], try_num=3)
    assert any(r.ok for r in res), [r.error for r in res]
    ok = next(r for r in res if r.ok)
    assert 1 <= ok.parsed.depth <= 5 and 1 <= ok.parsed.breadth <= 5
    assert ok.usage.prompt_tokens > 20 and ok.usage.completion_tokens > 5
    llm.close()


def test_packaged_weights_are_verified(tmp_path, monkeypatch):
    monkeypatch.setenv("MINDGYM_CACHE", str(tmp_path))
    path = packaged.gguf_path("smollm2")
    assert path.name.endswith(".gguf") and (tmp_path / "smollm2.verified").exists()
    fake = tmp_path / "evil.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 64)
    monkeypatch.setitem(packaged.SHA256, "smollm2", "0" * 64)
    (tmp_path / "smollm2.verified").unlink()
    with pytest.raises(ValueError, match="sha256"):
        packaged.gguf_path("smollm2")
    assert packaged.gguf_path(str(fake)) == fake  # any other GGUF is used as given
    with pytest.raises(ValueError, match="must be one of"):
        packaged.gguf_path("no-such-model")
