import importlib.util

import pytest

from mindgym_ops.llm import LLM

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed: the real-engine test below runs instead")
def test_missing_vllm_names_the_extra_to_install():
    llm = LLM(backend="vllm", model="some/model")  # config time: fine, nothing loads yet
    with pytest.raises(ImportError, match=r"mindgym-ops\[vllm\]"):
        llm.chat_batch([[{"role": "user", "content": "hi"}]])


@pytest.mark.skipif(not HAS_VLLM, reason="vLLM is not installed (GPU machines only)")
def test_vllm_one_chat_call_for_the_whole_batch(tmp_path):
    from tiny_models import build_tiny_qwen2

    model = build_tiny_qwen2(str(tmp_path / "tiny"))
    llm = LLM(
        backend="vllm",
        model=model,
        model_params={"enforce_eager": True, "gpu_memory_utilization": 0.3},
        sampling_params={"max_tokens": 4, "temperature": 0},
    )
    res = llm.chat_batch([[{"role": "user", "content": f"hi {i}"}] for i in range(8)], try_num=1)
    assert len(res) == 8 and all(r.usage.prompt_tokens > 0 for r in res)
