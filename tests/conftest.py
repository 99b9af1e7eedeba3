import os

import pytest

os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
for var in ("MINDGYM_BACKEND", "MINDGYM_MODEL", "OPENAI_BASE_URL"):
    os.environ.pop(var, None)

from helpers import SECRET  # noqa: E402
from mindgym_script import MindGymScript  # noqa: E402

from mindgym_ops.testing.server import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def script():
    return MindGymScript()


@pytest.fixture
def server(script):
    with FakeOpenAIServer(script) as srv:
        yield srv


@pytest.fixture
def api_env(server, monkeypatch, tmp_path):
    """Point the api backend at the loopback server, with a marker API key that must never leak."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MINDGYM_CACHE", str(tmp_path / "mgcache"))
    return server
