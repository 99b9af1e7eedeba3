"""hf backend on image rows: a tiny random Qwen2.5-VL built offline with the real Qwen token ids.
Runs in a subprocess because the CPU torchvision shim patches transformers process-wide."""

import json
import subprocess
import sys

from helpers import ROOT, dj_env
from PIL import Image
from tiny_models import build_tiny_qwen25_vl

SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import cpu_vl_shim  # noqa: F401  (tests only)
from mindgym_ops.llm import LLM
llm = LLM(backend="hf", model=sys.argv[2], model_params={"batch_size": 3},
          sampling_params={"temperature": 0.0, "max_tokens": 4})
img = lambda p: [{"role": "user",
                  "content": [{"type": "image", "image": p}, {"type": "text", "text": "What is shown?"}]}]
convs = [img(sys.argv[3]), img(sys.argv[4]), [{"role": "user", "content": "A text row."}], img("/no/such.png")]
res = llm.chat_batch(convs, try_num=1)
print(json.dumps([{"prompt": r.usage.prompt_tokens, "completion": r.usage.completion_tokens,
                   "error": r.error.kind.value if r.error else None} for r in res]))
"""


def test_hf_backend_runs_image_rows_through_a_tiny_qwen25_vl(tmp_path):
    model = build_tiny_qwen25_vl(str(tmp_path / "tiny-vl"))
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    Image.new("RGB", (56, 56), "red").save(small)
    Image.new("RGB", (112, 112), "blue").save(large)
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "tests"), model, str(small), str(large)],
        capture_output=True,
        text=True,
        env=dj_env(),
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    small_r, large_r, text_r, missing_r = out
    # the image really went through the processor: <|image_pad|> expands with the image's size
    assert large_r["prompt"] > small_r["prompt"] > text_r["prompt"]
    assert all(x["completion"] >= 1 for x in (small_r, large_r, text_r))
    assert missing_r["error"] == "image" and missing_r["prompt"] == 0
