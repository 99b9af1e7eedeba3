import importlib.util
import sys
import types
from typing import Any, Dict, List

import pytest

from mindgym_ops.llm import LLM, ErrorKind

HAS_VLLM = importlib.util.find_spec("vllm") is not None


class FakeVLLM:
    """Stands in for `vllm.LLM`: records every `chat` call and echoes each conversation's last turn."""

    chats: List[Dict[str, Any]] = []

    def __init__(self, model: str, **params):
        self.model, self.params = model, params

    def chat(self, messages, sampling_params, use_tqdm=True):
        FakeVLLM.chats.append({"messages": messages, "sampling": sampling_params.kwargs})
        outs = []
        for conv in messages:
            text = f"echo: {conv[-1]['content']}"
            out = types.SimpleNamespace(text=text, token_ids=list(range(len(text))), finish_reason="stop")
            outs.append(types.SimpleNamespace(outputs=[out], prompt_token_ids=[0] * len(conv[-1]["content"])))
        return outs


@pytest.fixture
def fake_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.LLM = FakeVLLM
    module.SamplingParams = lambda **kw: types.SimpleNamespace(kwargs=kw)
    sampling = types.ModuleType("vllm.sampling_params")
    sampling.StructuredOutputsParams = lambda **kw: kw
    module.sampling_params = sampling
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sampling)
    FakeVLLM.chats = []
    return FakeVLLM


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed: the real-engine test below runs instead")
def test_missing_vllm_names_the_extra_to_install():
    llm = LLM(backend="vllm", model="some/model")  # config time: fine, nothing loads yet
    with pytest.raises(ImportError, match=r"mindgym-ops\[vllm\]"):
        llm.chat_batch([[{"role": "user", "content": "hi"}]])


def test_vllm_one_chat_call_for_the_whole_batch(fake_vllm, tmp_path):
    """All N conversations go to a single `LLM.chat`, in order; each result is its own input's reply, and a
    row whose image cannot be read stays out of the batch without shifting the others."""
    convs = [[{"role": "user", "content": f"question {i}"}] for i in range(6)]
    missing = str(tmp_path / "missing.png")
    convs[2] = [{"role": "user", "content": [{"type": "image", "image": missing}, {"type": "text", "text": "what?"}]}]
    llm = LLM(backend="vllm", model="fake/one-chat", sampling_params={"max_tokens": 4, "temperature": 0})
    res = llm.chat_batch(convs, try_num=1)
    llm.close()

    assert len(fake_vllm.chats) == 1
    (call,) = fake_vllm.chats
    sent = [i for i in range(6) if i != 2]
    assert call["messages"] == [convs[i] for i in sent]
    assert call["sampling"]["max_tokens"] == 4 and call["sampling"]["temperature"] == 0
    for i in sent:
        assert res[i].ok and res[i].text == f"echo: question {i}"
        assert res[i].usage.prompt_tokens == len(f"question {i}")
        assert res[i].usage.completion_tokens == len(f"echo: question {i}")
    assert res[2].error.kind == ErrorKind.IMAGE and missing in res[2].error.message


@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (GPU machines only)")
def test_vllm_real_engine_answers_the_batch_in_one_chat_call(tmp_path, monkeypatch):
    import vllm
    from tiny_models import build_tiny_qwen2

    calls = []
    chat = vllm.LLM.chat

    def spy(self, messages, *args, **kwargs):
        calls.append(len(messages))
        return chat(self, messages, *args, **kwargs)

    monkeypatch.setattr(vllm.LLM, "chat", spy)
    model = build_tiny_qwen2(str(tmp_path / "tiny"))
    llm = LLM(
        backend="vllm",
        model=model,
        model_params={"enforce_eager": True, "gpu_memory_utilization": 0.3},
        sampling_params={"max_tokens": 4, "temperature": 0},
    )
    res = llm.chat_batch([[{"role": "user", "content": f"hi {i}"}] for i in range(8)], try_num=1)
    assert calls == [8]
    assert len(res) == 8 and all(r.usage.prompt_tokens > 0 for r in res)
