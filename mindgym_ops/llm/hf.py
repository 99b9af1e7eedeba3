"""`hf` backend: transformers batched generation with left padding, CPU or GPU.

Text models go through AutoModelForCausalLM. Qwen2-VL / Qwen2.5-VL models (detected from the
config) go through their processor, so image rows reach the vision tower."""

from typing import Any, Dict, List, Optional

from .base import Backend, OnReply, flatten_text, has_images, image_paths
from .images import open_image
from .types import ErrorKind, LLMError, RawReply, Usage

_VL_TYPES = ("qwen2_vl", "qwen2_5_vl")


class HFBackend(Backend):
    name = "hf"
    _handles = ("_engine", "_model", "_tok", "_processor", "device")

    def __init__(self, model: str, model_params: Dict[str, Any]):
        super().__init__(model, model_params)
        self.batch_size = int(self.model_params.get("batch_size", 8))
        self.is_vl = False

    def engine_params(self) -> Dict[str, Any]:
        return {k: self.model_params.get(k) for k in ("device", "dtype")}

    def _load(self) -> Dict[str, Any]:
        try:
            import torch
            import transformers
        except ImportError:
            raise ImportError("hf backend needs torch and transformers: pip install 'mindgym-ops'") from None
        p = self.model_params
        device = p.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = getattr(torch, p.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32"))
        config = transformers.AutoConfig.from_pretrained(self.model)
        is_vl = getattr(config, "model_type", "") in _VL_TYPES
        processor = None
        if is_vl:
            processor = transformers.AutoProcessor.from_pretrained(self.model)
            tok = processor.tokenizer
            model = transformers.AutoModelForImageTextToText.from_pretrained(self.model, dtype=dtype)
        else:
            tok = transformers.AutoTokenizer.from_pretrained(self.model)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.model, dtype=dtype)
        tok.padding_side = "left"
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        model.to(device).eval()
        return {"model": model, "tok": tok, "processor": processor, "is_vl": is_vl, "device": device}

    def _open(self) -> None:
        super()._open()
        e = self._engine
        self._model, self._tok, self._processor = e["model"], e["tok"], e["processor"]
        self.is_vl, self.device = e["is_vl"], e["device"]

    def _gen_kwargs(self, sampling: Dict[str, Any]) -> Dict[str, Any]:
        temperature = float(sampling.get("temperature", 0.0) or 0.0)
        kw = {
            "max_new_tokens": int(sampling.get("max_tokens", 256)),
            "do_sample": temperature > 0,
            "pad_token_id": self._tok.pad_token_id,
        }
        if temperature > 0:
            kw.update(temperature=temperature, top_p=sampling.get("top_p", 1.0))
            if sampling.get("top_k") is not None:
                kw["top_k"] = sampling["top_k"]
        if sampling.get("repetition_penalty") is not None:
            kw["repetition_penalty"] = sampling["repetition_penalty"]
        return kw

    def _encode(self, chunk):
        if not self.is_vl:
            texts = [
                self._tok.apply_chat_template(flatten_text(c), tokenize=False, add_generation_prompt=True)
                for c in chunk
            ]
            return self._tok(texts, return_tensors="pt", padding=True)
        texts, images = [], []
        for conv in chunk:
            msgs = [
                {
                    "role": m["role"],
                    "content": (
                        m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
                    ),
                }
                for m in conv
            ]
            texts.append(self._processor.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True))
            images.extend(open_image(p) for p in image_paths(conv))
        return self._processor(text=texts, images=images or None, return_tensors="pt", padding=True)

    def generate(
        self, conversations, sampling, schema, on_reply: Optional[OnReply] = None, request_ids=None
    ) -> List[RawReply]:
        import torch

        replies: List[Optional[RawReply]] = [None] * len(conversations)
        todo = []
        for i, conv in enumerate(conversations):
            refused = self._refusal(conv)
            if refused is None:
                todo.append(i)
                continue
            replies[i] = RawReply(error=refused)
            if on_reply is not None:
                on_reply(i, replies[i])
        if todo:
            self._ensure()
            gen_kw = self._gen_kwargs(sampling)
            eos_ids = {self._tok.eos_token_id, self._tok.pad_token_id} - {None}
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start : start + self.batch_size]
            enc = self._encode([conversations[i] for i in idx]).to(self.device)
            with torch.inference_mode():
                out = self._model.generate(**enc, **gen_kw)
            new = out[:, enc["input_ids"].shape[1] :]
            prompt_lens = enc["attention_mask"].sum(dim=1).tolist()
            for j, i in enumerate(idx):
                ids = new[j].tolist()
                n = next((k + 1 for k, t in enumerate(ids) if t in eos_ids), None)
                finish = "stop" if n is not None else "length"
                ids = ids[: n if n is not None else len(ids)]
                text = self._tok.decode(ids, skip_special_tokens=True)
                replies[i] = RawReply.of(text, Usage(int(prompt_lens[j]), len(ids)), finish)
                if on_reply is not None:  # as each chunk finishes: a crash later keeps this chunk's work
                    on_reply(i, replies[i])
        return replies

    def _refusal(self, conv) -> Optional[LLMError]:
        """Why a conversation cannot be generated for (images on a text model, unreadable images)."""
        if not has_images(conv):
            return None
        if not self._vl_capable():
            return LLMError(ErrorKind.INPUT, "hf text model cannot take images")
        try:
            for path in image_paths(conv):
                open_image(path)
        except LLMError as e:
            return e
        return None

    def _vl_capable(self) -> bool:
        if self._model is None:
            import transformers

            return getattr(transformers.AutoConfig.from_pretrained(self.model), "model_type", "") in _VL_TYPES
        return self.is_vl
