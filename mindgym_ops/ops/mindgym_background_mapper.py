from typing import Dict, List, Optional

from data_juicer.ops.base_op import OPERATORS, TAGGING_OPS
from data_juicer.utils.constant import Fields
from pydantic import PositiveInt

from ..llm import ErrorKind, LLMError, TextSchema
from ..rules.material import check_background
from ..schemas import CATEGORIES, check_choices
from ..text import cut_to_budget, hash_index
from .base import FEEDBACK, Checked, Request
from .mapper_base import GenerationMapper
from .rows import ROW_ID, numbered_row_id, row_number
from .wording import SETTING_HINTS

OP_NAME = "mindgym_background_mapper"
BACKGROUND = TextSchema("Background", min_words=60)


@TAGGING_OPS.register_module(OP_NAME)
@OPERATORS.register_module(OP_NAME)
class MindgymBackgroundMapper(GenerationMapper):
    """Writes a background document per row for one of the eight reasoning areas.

    From scratch (empty `text`), the model writes a six-sentence report of linked, invented facts; a
    report with fewer than three numbers or two proper names, or with template filler ("[Name]"), is
    retried with the reason fed back (`background_few_facts`, `background_placeholder`; see
    `mindgym_ops.rules.material.check_background`). Rows that already carry text use it as the background, cut to
    `max_background_tokens` (the cut is recorded). The reasoning area comes from the row's
    `reasoning_category` when valid, else round-robin over `categories` by row index. Writes
    `background_document`, `reasoning_category`, `language`, `mindgym_row_id`, and provenance
    under `__dj__meta__.mindgym_background`; rows that fail are dropped or flagged
    (`on_failure`) with a counted reason."""

    step = "background"
    meta_key = "mindgym_background"
    output_defaults = {"background_document": "", "reasoning_category": "", "language": ""}
    structured_reply = False

    def __init__(
        self,
        categories: Optional[List[str]] = None,
        category_key: str = "reasoning_category",
        max_background_tokens: PositiveInt = 1024,
        image_root: Optional[str] = None,
        allow_external_images: bool = False,
        backend: Optional[str] = None,
        model: Optional[str] = None,
        model_params: Optional[Dict] = None,
        sampling_params: Optional[Dict] = None,
        try_num: PositiveInt = 3,
        cache_dir: Optional[str] = None,
        language: str = "en",
        on_failure: str = "drop",
        prompt_templates: Optional[Dict[str, str]] = None,
        thinking_protocol: bool = True,
        *args,
        **kwargs,
    ):
        """
        Initialization method.

        :param categories: reasoning areas to cycle through; default all eight.
        :param category_key: row field read for a per-row reasoning area.
        :param max_background_tokens: corpus text longer than this (approximate tokens) is cut.
        :param image_root: rows that carry images: they must lie inside this folder (default: the working directory).
        :param allow_external_images: accept image paths outside image_root.
        :param backend: api, vllm, hf or local (env MINDGYM_BACKEND overrides).
        :param model: model name, path or packaged GGUF name (env MINDGYM_MODEL overrides).
        :param model_params: backend parameters (base_url, max_concurrency, timeout, n_ctx, ...).
        :param sampling_params: temperature, top_p, max_tokens, seed, ...
        :param try_num: attempts per row until a reply parses (>= 1).
        :param cache_dir: request cache folder; a rerun re-sends nothing that completed.
        :param language: en or zh.
        :param on_failure: drop a failed row, or flag it (kept, reason in meta).
        :param prompt_templates: overrides by name (background, thinking_protocol, retry_feedback): path or text.
        :param thinking_protocol: send our concise thinking protocol as the system prompt.
        """
        super().__init__(*args, **kwargs)
        self.categories = check_choices("categories", categories or list(CATEGORIES), CATEGORIES)
        self.category_key = category_key
        self.max_background_tokens = max_background_tokens
        self.init_llm(
            locals(),
            on_failure=on_failure,
            templates={"background": ("category", "setting_hint"), "thinking_protocol": (), "retry_feedback": FEEDBACK},
            thinking_protocol=thinking_protocol,
        )

    def run(self, dataset, *, exporter=None, tracer=None):
        # number rows once, so round-robin areas and per-row nonces are stable across reruns
        if hasattr(dataset, "column_names") and ROW_ID not in dataset.column_names:
            dataset = dataset.map(lambda _, i: {ROW_ID: numbered_row_id(i)}, with_indices=True, desc="mindgym_row_ids")
        return super().run(dataset, exporter=exporter, tracer=tracer)

    def _category(self, row: Dict, rid: str) -> str:
        given = row.get(self.category_key)
        if isinstance(given, str) and given in self.categories:
            return given
        index = row_number(rid)
        index = hash_index(rid) if index is None else index
        return self.categories[index % len(self.categories)]

    def prepare(self, row):
        rid = row[ROW_ID]
        row["reasoning_category"] = self._category(row, rid)
        row["language"] = self.language
        text = row.get(self.text_key)
        if text is not None and not isinstance(text, str):
            raise LLMError(ErrorKind.INPUT, f"{self.text_key} must be a string, got {type(text).__name__}")
        if text and text.strip():
            row["background_document"], cut = cut_to_budget(text.strip(), self.max_background_tokens)
            extra = {"mode": "corpus", "cut": cut, "original_chars": len(text)}
            row[Fields.meta][self.meta_key] = self.provenance(rid, extra=extra)
            return None
        hints = SETTING_HINTS[self.language]
        prompt = self.templates["background"].render(
            category=row["reasoning_category"], setting_hint=hints[hash_index(rid) % len(hints)]
        )
        names = ["background"] + (["thinking_protocol"] if self.use_thinking else [])
        return Request(self.system_messages() + self.user(prompt), BACKGROUND, names)

    def check_reply(self, step, row, parsed):
        return Checked(check_background(parsed, self.language))

    def provenance_extra(self, row, parsed, state):
        return {"mode": "scratch"}

    def apply(self, row, parsed, state):
        row["background_document"] = parsed
