"""`local` backend: llama-cpp-python on a small GGUF, the embedded CPU default (no server, no key).

With a schema, llama.cpp's JSON grammar constrains the reply to the schema. By default the grammar is
consulted after sampling, as llama.cpp's own sampler does (llama_sampling.py): the same valid JSON at the
price of plain sampling; `model_params.grammar_sampling: first` restores llama-cpp-python's order."""

import os
from typing import Any, Dict, List, Optional

from .base import Backend, OnReply, flatten_text, has_images
from .types import ErrorKind, LLMError, RawReply, Usage


class LocalBackend(Backend):
    name = "local"

    def __init__(self, model: str, model_params: Dict[str, Any]):
        super().__init__(model, model_params)
        order = self.model_params.get("grammar_sampling", "last")
        if order not in ("last", "first"):
            raise ValueError(f"model_params.grammar_sampling must be one of ['last', 'first'], got {order!r}")

    def engine_params(self) -> Dict[str, Any]:
        p = self.model_params
        return {
            "grammar_sampling": p.get("grammar_sampling", "last"),
            "n_ctx": int(p.get("n_ctx", 4096)),
            "n_threads": int(p.get("n_threads", os.cpu_count() or 2)),
            "n_batch": int(p.get("n_batch", 512)),
            "seed": int(p.get("seed", 0)),
        }

    def _load(self):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ImportError("local backend needs llama-cpp-python: pip install 'mindgym-ops[local]'") from None
        from .llama_sampling import fast_grammar_llama_class
        from .packaged import gguf_path

        params = self.engine_params()
        cls = fast_grammar_llama_class() if params.pop("grammar_sampling") == "last" else Llama
        return cls(model_path=str(gguf_path(self.model)), verbose=False, **params)

    @staticmethod
    def _unload(llm) -> None:
        llm.close()

    def generate(
        self, conversations, sampling, schema, on_reply: Optional[OnReply] = None, request_ids=None
    ) -> List[RawReply]:
        if conversations:
            self._ensure()
        kwargs = {
            "temperature": sampling.get("temperature", 0.7),
            "top_p": sampling.get("top_p", 0.95),
            "max_tokens": sampling.get("max_tokens", 512),
        }
        for src, dst in (
            ("top_k", "top_k"),
            ("repetition_penalty", "repeat_penalty"),
            ("seed", "seed"),
            ("stop", "stop"),
        ):
            if sampling.get(src) is not None:
                kwargs[dst] = sampling[src]
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        out = []
        for i, conv in enumerate(conversations):
            if has_images(conv):
                reply = RawReply(
                    error=LLMError(ErrorKind.INPUT, "local backend is text-only; use api/vllm/hf for images")
                )
            else:
                try:
                    r = self._engine.create_chat_completion(messages=flatten_text(conv), **kwargs)
                    choice = r["choices"][0]
                    u = r.get("usage") or {}
                    text = choice["message"].get("content")
                    reply = RawReply.of(
                        text,
                        Usage(u.get("prompt_tokens", 0), u.get("completion_tokens", 0)),
                        choice.get("finish_reason"),
                    )
                except ValueError as e:  # e.g. prompt longer than n_ctx
                    reply = RawReply(error=LLMError(ErrorKind.INPUT, str(e)[:200]))
            if on_reply is not None:
                on_reply(i, reply)
            out.append(reply)
        return out
