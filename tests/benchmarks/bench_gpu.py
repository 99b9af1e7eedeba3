"""GPU section: the `hf` backend batched vs one row at a time, and `vllm` where installed.

Qwen2.5-0.5B- and Qwen2.5-7B-shaped models are built from their configs with random weights (the
weights do not change the cost of a forward pass) with the real Qwen tokenizer, and run through
our model layer (`LLM.chat_batch`) on MindGYM judge prompts. Prints generated tokens/s per
configuration and the batched / one-at-a-time ratio. Without a CUDA device it says so and exits 0;
`--device cpu --shapes tiny` checks the script itself on a CPU. Sized for a few minutes on one H200.

    python tests/benchmarks/bench_gpu.py [--shapes qwen2.5-0.5b qwen2.5-7b] [--max-tokens 128]"""

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/: tiny_models (the offline Qwen tokenizer)

SHAPES = {
    "qwen2.5-0.5b": dict(
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    ),
    # the language model of Qwen2.5-VL-7B
    "qwen2.5-7b": dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        tie_word_embeddings=False,
    ),
    "tiny": dict(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        tie_word_embeddings=True,
    ),
}


def judge_prompts(n):
    """MindGYM depth/breadth judge conversations on distinct questions (~350 prompt tokens each)."""
    from mindgym_ops.prompts import load_templates

    spec = {"judge_depth_breadth": ("question", "answer", "sub_questions")}
    tpl = load_templates("en", spec, None)["judge_depth_breadth"]
    return [
        [
            {
                "role": "user",
                "content": tpl.render(
                    question=f"Question {i}: the engineer who measured on Monday doubled the figure by Friday; "
                    "given the three-day reporting rule and Thursday meetings, when does the council hear of it?",
                    answer="The following Thursday.",
                    sub_questions=[{"question": "Who measured on Monday?", "answer": "Mara Quist"}],
                ),
            }
        ]
        for i in range(n)
    ]


def build(shape, device, tok):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        **SHAPES[shape],
        vocab_size=len(tok),
        max_position_embeddings=32768,
        rope_theta=1e6,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        model = Qwen2ForCausalLM(cfg).to(dtype).eval()
    return model


def hf_llm(model, tok, device, max_tokens):
    """Our LLM on the hf backend, with the built model handed to the backend instead of loaded."""
    from mindgym_ops.llm import LLM

    llm = LLM(backend="hf", model="random-weights", sampling_params={"temperature": 0.0, "max_tokens": max_tokens})
    be = llm.backend
    tok.padding_side = "left"  # what the backend's own loader sets
    be._model, be._tok, be.device, be.is_vl, be._pid = model, tok, device, False, os.getpid()
    return llm


def timed(llm, convs, device):
    """(generated tokens, seconds) for one `chat_batch` over `convs`."""
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    results = llm.chat_batch(convs, try_num=1)
    if device == "cuda":
        torch.cuda.synchronize()
    return sum(r.usage.completion_tokens for r in results), time.perf_counter() - t


def bench_hf(shape, device, tok, a):
    import torch

    model = build(shape, device, tok)
    params = sum(p.numel() for p in model.parameters()) / 1e9
    llm = hf_llm(model, tok, device, a.max_tokens)
    llm.backend.batch_size = 1
    timed(llm, judge_prompts(1), device)  # warm-up: kernels, allocator
    tokens, dt1 = timed(llm, judge_prompts(a.one_rows), device)
    one = tokens / dt1
    print(f"hf {shape} ({params:.2f}B) one row at a time: {one:9.1f} tokens/s  ({a.one_rows} rows, {dt1:.1f} s)")
    llm.backend.batch_size = a.batch_rows
    tokens, dtb = timed(llm, judge_prompts(a.batch_rows), device)
    batched = tokens / dtb
    print(f"hf {shape} ({params:.2f}B) batched x{a.batch_rows}:      {batched:9.1f} tokens/s  ({dtb:.1f} s)")
    print(f"hf {shape} ratio batched / one at a time: {batched / one:.1f}x")
    del llm, model
    if device == "cuda":
        torch.cuda.empty_cache()


def bench_vllm(shape, tok, a):
    """vLLM loads from disk: the random model is saved once (the 0.5B shape keeps this short)."""
    import torch

    from mindgym_ops.llm import LLM

    with tempfile.TemporaryDirectory() as path:
        model = build(shape, "cpu", tok).to(torch.bfloat16)
        model.save_pretrained(path)
        tok.save_pretrained(path)
        del model
        llm = LLM(
            backend="vllm",
            model=path,
            model_params={"gpu_memory_utilization": 0.5, "max_model_len": 4096, "enforce_eager": False},
            sampling_params={"temperature": 0.0, "max_tokens": a.max_tokens},
        )
        timed(llm, judge_prompts(2), "cuda")
        one_tokens, one_time = 0, 0.0
        for conv in judge_prompts(a.one_rows):
            tokens, dt = timed(llm, [conv], "cuda")
            one_tokens += tokens
            one_time += dt
        one = one_tokens / one_time
        print(f"vllm {shape} one row at a time: {one:9.1f} tokens/s  ({a.one_rows} rows, {one_time:.1f} s)")
        n = a.batch_rows * 4
        tokens, dtb = timed(llm, judge_prompts(n), "cuda")
        batched = tokens / dtb
        print(f"vllm {shape} batched x{n}:      {batched:9.1f} tokens/s  ({dtb:.1f} s)")
        print(f"vllm {shape} ratio batched / one at a time: {batched / one:.1f}x")
        llm.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", nargs="+", default=["qwen2.5-0.5b", "qwen2.5-7b"], choices=sorted(SHAPES))
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--one-rows", type=int, default=8, help="rows sent one at a time")
    ap.add_argument("--batch-rows", type=int, default=64, help="rows in the batched run")
    ap.add_argument("--skip-vllm", action="store_true")
    a = ap.parse_args()
    import torch

    if a.device == "cuda" and not torch.cuda.is_available():
        print("GPU section skipped: no CUDA device here (run on a GPU machine, or --device cpu --shapes tiny)")
        return
    from tiny_models import qwen_tokenizer

    tok = qwen_tokenizer()
    if a.device == "cuda":
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    for shape in a.shapes:
        bench_hf(shape, a.device, tok, a)
    try:
        import vllm  # noqa: F401
    except ImportError:
        print("vllm section skipped: vLLM is not installed (pip install 'mindgym-ops[vllm]')")
        return
    if a.device == "cuda" and not a.skip_vllm:
        bench_vllm(a.shapes[0], tok, a)


if __name__ == "__main__":
    main()
