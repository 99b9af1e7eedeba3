"""mindgym-ops: MindGYM question synthesis, scoring and curriculum formatting as Data-Juicer ops.

Importing the package loads nothing else: Data-Juicer registers the ops through the `data_juicer.ops` entry point
(`mindgym_ops.register`), so the model layer (`mindgym_ops.llm`) and the rules (`mindgym_ops.rules`) import without
Data-Juicer, torch, transformers, vllm or llama_cpp."""

__version__ = "0.1.0"
