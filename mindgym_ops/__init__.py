"""mindgym-ops: MindGYM question synthesis, scoring and curriculum formatting as Data-Juicer ops.

Importing this package registers the ops with Data-Juicer's OPERATORS registry. It stays cheap:
torch, transformers, vllm and llama_cpp load only inside the backends that need them."""

__version__ = "0.1.0"

from . import formatters, ops  # noqa: E402,F401  (registers the ops and the from-scratch formatter)
