"""Does decoding several sequences together in one `llama_decode` beat a single stream on this machine?

The `local` backend decodes one reply at a time. llama.cpp can decode several sequences in one batch
(one token of each per step), which pays where a step is bound by reading the weights, not by
arithmetic. This measures it on the packaged GGUF, with the low-level API, for the two shapes the
pipeline has:

- distinct rows: W sequences, each after its own context of C tokens (W rows of one op);
- shared prefix: W sequences after one C-token context, copied to each (the k solver attempts at one
  question, which read the same report and question).

For each it prints the aggregate decode rate (tokens/s over all sequences) and its ratio to one stream,
in both KV-cache layouts (one unified cache, or one stream per sequence), each the better of two runs.
Decode only, no sampling: the sampler's cost per token is the same either way, so these ratios are an
upper bound on the gain.

    python tests/benchmarks/bench_llama_batch.py [--threads N] [--steps 24] [--contexts 300 1200] [--widths 1 2 4]
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

TEXT = (
    "The river port opened in 1759, when the grain exchange moved from the old town; by 1861 it handled "
    "most of the harvest of the delta, and its records list every ship, cargo and price. "
)


class Engine:
    """One llama.cpp context that holds up to `width` sequences."""

    def __init__(self, lc, model, threads: int, width: int, unified: bool, n_ctx: int):
        self.lc = lc
        params = lc.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = n_ctx, 512, 512
        params.n_seq_max, params.n_threads, params.n_threads_batch = width, threads, threads
        params.kv_unified = unified
        self.ctx = lc.llama_init_from_model(model, params)
        self.mem = lc.llama_get_memory(self.ctx)
        self.batch = lc.llama_batch_init(512, 0, width)

    def decode(self, items) -> None:
        """items: (token, position, sequence, wants logits)"""
        b = self.batch
        b.n_tokens = len(items)
        for i, (tok, pos, seq, logits) in enumerate(items):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = tok, pos, 1, logits
            b.seq_id[i][0] = seq
        rc = self.lc.llama_decode(self.ctx, b)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def prefill(self, tokens, seq: int) -> None:
        for start in range(0, len(tokens), 512):
            chunk = tokens[start : start + 512]
            self.decode([(t, start + j, seq, start + j == len(tokens) - 1) for j, t in enumerate(chunk)])

    def rate(self, contexts, shared: bool, steps: int) -> float:
        """Aggregate tokens/s of `steps` decode steps over len(contexts) sequences."""
        self.lc.llama_memory_clear(self.mem, True)
        width = len(contexts)
        if shared:
            self.prefill(contexts[0], 0)
            for s in range(1, width):
                self.lc.llama_memory_seq_cp(self.mem, 0, s, -1, -1)
        else:
            for s, ctx in enumerate(contexts):
                self.prefill(ctx, s)
        n = len(contexts[0])
        t = time.perf_counter()
        for step in range(steps):
            self.decode([(contexts[s][step % n], n + step, s, True) for s in range(width)])
        return width * steps / (time.perf_counter() - t)

    def close(self) -> None:
        self.lc.llama_batch_free(self.batch)
        self.lc.llama_free(self.ctx)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--contexts", type=int, nargs="+", default=[300, 1200])
    ap.add_argument("--widths", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()

    import llama_cpp as lc
    from llama_cpp._logger import set_verbose

    from mindgym_ops.llm.packaged import gguf_path

    set_verbose(False)  # llama.cpp's load and context logs
    lc.llama_backend_init()
    model = lc.llama_model_load_from_file(str(gguf_path("qwen2.5-0.5b")).encode(), lc.llama_model_default_params())
    vocab = lc.llama_model_get_vocab(model)
    text = (TEXT * 80).encode()
    buf = (lc.llama_token * 4096)()
    n = lc.llama_tokenize(vocab, text, len(text), buf, 4096, True, False)
    tokens = list(buf[:n])
    top = max(args.widths)
    n_ctx = top * (max(args.contexts) + args.steps + 64)
    best = {}
    for unified in (True, False):
        engine = Engine(lc, model, args.threads, top, unified, n_ctx)
        engine.rate([tokens[:64]], False, 8)  # warm-up
        for c in args.contexts:
            single = None
            for shared in (False, True):
                for w in args.widths:
                    if w == 1 and shared:
                        continue
                    # distinct rows start at different offsets of the text, so no two contexts are equal
                    contexts = [tokens[s * 7 : s * 7 + c] for s in range(w)]
                    # the better of two runs: a shared 2-core machine adds noise, never speed
                    r = max(engine.rate(contexts, shared, args.steps) for _ in range(2))
                    single = r if w == 1 else single
                    shape = "shared prefix" if shared else "distinct rows"
                    layout = "unified KV" if unified else "KV per sequence"
                    print(f"context {c:5d}, {layout:15s}, {shape:13s}, W={w}: {r:6.1f} tokens/s ({r / single:.2f}x)")
                    if w > 1:
                        key = (shape, c)
                        best[key] = max(best.get(key, 0.0), r / single)
        engine.close()
    lc.llama_model_free(model)
    line = "; ".join(f"{shape}, context {c}: {ratio:.2f}x" for (shape, c), ratio in sorted(best.items()))
    print(f"best multi-sequence decode over one stream ({args.threads} threads): {line}")


if __name__ == "__main__":
    main()
