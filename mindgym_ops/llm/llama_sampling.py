"""Grammar-constrained sampling at the price of plain sampling, for the `local` backend.

llama-cpp-python 0.3.36 puts the JSON grammar first in its sampler chain, so at every step the grammar
checks all ~151k vocabulary entries before top-k keeps 40 of them. llama.cpp's own sampler does the
reverse: sample with the ordinary chain, ask the grammar about that one token, and only when the
grammar rejects it, filter the full vocabulary by the grammar and sample again. The grammar never
accepts a token it did not allow (accepting one is what crashes a naive "grammar after top-k" chain),
so the output is exactly as schema-valid as before."""

import ctypes
from typing import Any, Optional

import numpy as np

_NEG_INF = float("-inf")


class GrammarLastSampler:
    """Drop-in for llama-cpp-python's `LlamaSampler` where `generate` uses it: `sample(ctx, idx)`."""

    def __init__(self, llama_cpp: Any, chain: Any, model: Any, grammar: Any, n_vocab: int):
        self._lc = llama_cpp
        self.chain = chain  # the ordinary chain (penalties, top-k, top-p, min-p, temperature, dist)
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        self.n_vocab = n_vocab
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_arr = llama_cpp.llama_token_data_array(self._one, 1, -1, False)
        self._all = (llama_cpp.llama_token_data * n_vocab)()
        self._all_np = np.ctypeslib.as_array(
            ctypes.cast(self._all, ctypes.POINTER(ctypes.c_byte)), shape=(ctypes.sizeof(self._all),)
        ).view(np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)]))
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self.fast = self.slow = 0  # how often the grammar agreed with the sampled token, or had to filter

    def _allowed(self, token: int) -> bool:
        self._one[0].id, self._one[0].logit, self._one[0].p = token, 0.0, 0.0
        self._one_arr.size, self._one_arr.selected, self._one_arr.sorted = 1, -1, False
        self._lc.llama_sampler_apply(self.grammar, ctypes.byref(self._one_arr))
        return self._one[0].logit != _NEG_INF

    def sample(self, ctx: Any, idx: int = -1) -> int:
        lc = self._lc
        token = lc.llama_sampler_sample(self.chain.sampler, ctx.ctx, idx)  # samples and accepts into the chain
        if self._allowed(token):
            self.fast += 1
        else:
            self.slow += 1
            logits = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx.ctx, idx), shape=(self.n_vocab,))
            self._all_np["id"], self._all_np["logit"], self._all_np["p"] = self._ids, logits, 0.0
            arr = lc.llama_token_data_array(self._all, self.n_vocab, -1, False)
            lc.llama_sampler_apply(self.grammar, ctypes.byref(arr))  # disallowed tokens -> -inf
            lc.llama_sampler_apply(self.chain.sampler, ctypes.byref(arr))  # top-k ... dist among the rest
            token = arr.data[arr.selected].id
            lc.llama_sampler_accept(self.chain.sampler, token)
        lc.llama_sampler_accept(self.grammar, token)
        return token

    def close(self) -> None:
        if self.grammar is not None and self._lc.llama_sampler_free is not None:
            self._lc.llama_sampler_free(self.grammar)
        self.grammar = None
        self.chain.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may already be gone
            pass


def fast_grammar_llama_class() -> type:
    """`llama_cpp.Llama` with grammar-last sampling (built lazily: llama_cpp is imported only here)."""
    import llama_cpp
    from llama_cpp import Llama

    class FastGrammarLlama(Llama):
        def _init_sampler(self, *args, grammar: Optional[Any] = None, **kwargs):
            chain = super()._init_sampler(*args, grammar=None, **kwargs)
            if grammar is None:
                return chain
            return GrammarLastSampler(llama_cpp, chain, self._model, grammar, self._n_vocab)

    return FastGrammarLlama
