import json
from collections import Counter
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS, TAGGING_OPS, Mapper
from data_juicer.utils.constant import Fields
from loguru import logger
from pydantic import PositiveInt

from ..llm import LLMError
from ..prompts import load_templates
from ..schemas import LANGUAGES, check_choice
from ..text import cut_to_budget
from .images import ImagePolicy
from .rows import columns_to_rows, rows_to_columns
from .tracing import RowTracing
from .wording import CURRICULUM_LABELS

OP_NAME = "mindgym_curriculum_mapper"
SPLITS = ("round_robin", "all")
STAGES = (1, 2, 3, 4)
META_KEY = "mindgym_curriculum"


@TAGGING_OPS.register_module(OP_NAME)
@OPERATORS.register_module(OP_NAME)
class MindgymCurriculumMapper(RowTracing, ImagePolicy, Mapper):
    """Turns each record into rows for the four thinking-curriculum stages, in ms-swift `messages` form.

    Stages: (1) question + thinking -> answer, (2) question + answer -> thinking, (3) question -> answer +
    thinking, (4) question -> answer. A question about invented facts is answerable only with them, so each row
    carries the record's source in front of its question: an image record its images (an `<image>` tag each), a
    text record its document (`document_key`, cut to `max_document_tokens`, the cut recorded in
    `__dj__meta__.mindgym_curriculum`); `grounded: false` keeps the paper's bare question. `thinking_first` writes
    stage 3 as thinking, then answer. Writes `messages`, `curriculum_stage` (1-4) and keeps `images`. `split:
    round_robin` deals a batch's records out to the stages in turn (the paper's quarters); `all` puts every record
    in every stage. A record without question, answer or thinking, or with an image outside image_root, is left
    out (counted in a warning, traced)."""

    _batched_op = True

    def __init__(
        self,
        split: str = "round_robin",
        language: Optional[str] = None,
        grounded: bool = True,
        document_key: str = "background_document",
        max_document_tokens: PositiveInt = 1024,
        thinking_first: bool = False,
        image_root: Optional[str] = None,
        allow_external_images: bool = False,
        prompt_templates: Optional[Dict[str, str]] = None,
        *args,
        **kwargs,
    ):
        """
        Initialization method.

        :param split: round_robin (each record in one stage) or all (every record in every stage).
        :param language: en or zh instructions; default: each row's `language` field, else en.
        :param grounded: put a text record's document in front of its question (image records always carry
            their images); false: the paper's bare question.
        :param document_key: the field that holds a text record's source document.
        :param max_document_tokens: the document is cut to about this many tokens.
        :param thinking_first: stage 3 as thinking, then answer (default: the paper's answer, then thinking).
        :param image_root: image records: images must lie inside this folder (default: the working directory).
        :param allow_external_images: accept image paths outside image_root.
        :param prompt_templates: overrides by name (curriculum_stage1 .. curriculum_stage4).
        """
        super().__init__(*args, **kwargs)
        check_choice("split", split, SPLITS)
        if language is not None:
            check_choice("language", language, LANGUAGES)
        self.split = split
        self.language = language
        self.grounded, self.document_key, self.max_document_tokens = grounded, document_key, max_document_tokens
        self.thinking_first = thinking_first
        self.image_root, self.allow_external_images = image_root, allow_external_images
        names = {f"curriculum_stage{k}": ("question", "answer", "thinking", "document") for k in STAGES}
        names["curriculum_stage3"] += ("thinking_first",)
        self.templates = {lang: load_templates(lang, names, prompt_templates) for lang in LANGUAGES}

    def _stages(self, index: int):
        """The stages of the index-th complete record of a batch: round-robin, as the paper deals its records out
        (so that every stage gets its quarter, whichever rows the filters kept), or all four."""
        return STAGES if self.split == "all" else (STAGES[index % 4],)

    def document(self, row: Dict) -> Dict:
        """The source a text record's rows carry (none for image records and in the bare format), and whether
        it was cut."""
        text = row.get(self.document_key) if self.grounded and not row.get(self.image_key) else None
        if not isinstance(text, str) or not text.strip():
            return {"document": "", "cut": False}
        text, cut = cut_to_budget(text.strip(), self.max_document_tokens)
        return {"document": text, "cut": cut}

    def messages(self, row: Dict, stage: int, language: str, document: str = ""):
        q, a, t = row["multihop_question"], row["multihop_answer"], row["thinking"]
        template = self.templates[language][f"curriculum_stage{stage}"]
        user = template.render(question=q, answer=a, thinking=t, document=document, thinking_first=self.thinking_first)
        images = row.get(self.image_key) or []
        if images:
            user = "<image>" * len(images) + "\n" + user
        label = CURRICULUM_LABELS[language]
        thought, answered = label["thinking"] + t, label["answer"] + a
        both = f"{thought}\n\n{answered}" if self.thinking_first else f"{answered}\n\n{thought}"
        target = {1: answered, 2: thought, 3: both, 4: answered}[stage]
        return [{"role": "user", "content": user}, {"role": "assistant", "content": target}]

    def unusable(self, row: Dict) -> Optional[str]:
        """Why a record gives no stage rows: `curriculum_incomplete` (no question, answer or thinking), or
        `curriculum_image` (an image outside image_root: training would read it); None when it is usable."""
        if not all(
            isinstance(row.get(k), str) and row[k].strip() for k in ("multihop_question", "multihop_answer", "thinking")
        ):
            return "curriculum_incomplete"
        try:
            self.checked_images(row)
        except LLMError:
            return "curriculum_image"
        return None

    def process_batched(self, samples, rank=None):
        rows = columns_to_rows(samples)
        keys = list(dict.fromkeys(list(samples.keys()) + ["messages", "curriculum_stage", self.image_key, Fields.meta]))
        out, keep, left_out = [], [], Counter()
        for row in rows:
            why = self.unusable(row)
            keep.append(why is None)
            if why:
                left_out[why] += 1
                if self.tracing:
                    self.mark_dropped(row, why)
                continue
            language = self.language or (row.get("language") if row.get("language") in LANGUAGES else "en")
            source = self.document(row)
            grounding = "images" if row.get(self.image_key) else ("document" if source["document"] else "none")
            note = {"grounding": grounding, "document_cut": source["cut"], "thinking_first": self.thinking_first}
            for stage in self._stages(sum(keep) - 1):
                new = dict(row)
                new["messages"] = self.messages(row, stage, language, source["document"])
                new["curriculum_stage"] = stage
                new[self.image_key] = list(row.get(self.image_key) or [])
                new[Fields.meta] = {**(row.get(Fields.meta) or {}), META_KEY: json.dumps(note)}
                out.append(new)
        if left_out:
            logger.warning(f"{OP_NAME}: left out {sum(left_out.values())} record(s): {dict(left_out)}")
        if self.tracing:  # the stage rows keep their record's text: only the dropped records are traced
            self.trace(rows, keep)
        return rows_to_columns(out, keys)
