from typing import Dict, List, Optional

from data_juicer.ops.base_op import OPERATORS, TAGGING_OPS
from pydantic import PositiveInt

from ..llm import ErrorKind, LLMError
from ..rules.material import check_seeds
from ..schemas import IMAGE_PRINCIPLES, TEXT_PRINCIPLES, check_choices, seed_set_schema
from .base import FEEDBACK, Checked, Request
from .mapper_base import GenerationMapper
from .wording import PRINCIPLE_HELP

OP_NAME = "mindgym_seed_qa_mapper"


@TAGGING_OPS.register_module(OP_NAME)
@OPERATORS.register_module(OP_NAME)
class MindgymSeedQaMapper(GenerationMapper):
    """Writes up to K single-hop seed questions with answers, linked by one named principle.

    Text rows read `background_document` and use the text principles (Bridging, Comparison,
    Temporal); image rows (non-empty `images`) send the image with the row's question, answer and
    explanation and use the image principles. Writes `sub_questions` (list of {question, answer})
    and `relationship_category`, provenance under `__dj__meta__.mindgym_seed_qa`.

    Unusable seeds (`mindgym_ops.rules.material.check_seeds`: about "the text", a long answer, one not in the
    document or inside its own question, a repeat; image rows: length and repeats only) are dropped and
    counted in provenance (`dropped_seeds`); fewer than two left is retried, then `seed_qa_seeds_<reason>`."""

    step = "seed_qa"
    meta_key = "mindgym_seed_qa"
    output_defaults = {"sub_questions": [], "relationship_category": "", "language": ""}

    def __init__(
        self,
        max_seeds: PositiveInt = 5,
        principles: Optional[List[str]] = None,
        image_principles: Optional[List[str]] = None,
        question_key: str = "question",
        answer_key: str = "answer",
        explanation_key: str = "explanation",
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

        :param max_seeds: K, the most seed questions per row (at least 2 are asked for).
        :param principles: text principles to choose from; default Bridging, Comparison, Temporal.
        :param image_principles: image principles; default all four.
        :param question_key: image rows: field holding the original question.
        :param answer_key: image rows: field holding the original answer.
        :param explanation_key: image rows: field holding the explanation (optional per row).
        :param image_root: image rows: images must lie inside this folder (default: the working directory).
        :param allow_external_images: accept image paths outside image_root.
        :param backend: api, vllm, hf or local (env MINDGYM_BACKEND overrides).
        :param model: model name or path (env MINDGYM_MODEL overrides).
        :param model_params: backend parameters.
        :param sampling_params: temperature, top_p, max_tokens, seed, ...
        :param try_num: attempts per row until a reply parses (>= 1).
        :param cache_dir: request cache folder.
        :param language: en or zh.
        :param on_failure: drop or flag a row whose reply never parses.
        :param prompt_templates: overrides by name (seed_qa_text, seed_qa_image, thinking_protocol, retry_feedback).
        :param thinking_protocol: send our concise thinking protocol as the system prompt.
        """
        super().__init__(*args, **kwargs)
        if max_seeds < 2:
            raise ValueError(f"max_seeds must be >= 2, got {max_seeds}")
        self.max_seeds = max_seeds
        self.principles = tuple(check_choices("principles", principles or list(TEXT_PRINCIPLES), TEXT_PRINCIPLES))
        self.image_principles = tuple(
            check_choices("image_principles", image_principles or list(IMAGE_PRINCIPLES), IMAGE_PRINCIPLES)
        )
        self.question_key, self.answer_key, self.explanation_key = question_key, answer_key, explanation_key
        shared = ("max_seeds", "principles", "principle_help")
        self.init_llm(
            locals(),
            on_failure=on_failure,
            templates={
                "seed_qa_text": shared + ("background", "category"),
                "seed_qa_image": shared + ("original_question", "original_answer", "explanation"),
                "thinking_protocol": (),
                "retry_feedback": FEEDBACK,
            },
            thinking_protocol=thinking_protocol,
        )

    def prepare(self, row):
        images = row.get(self.image_key) or []  # inside image_root: the base checked them
        names = ["thinking_protocol"] if self.use_thinking else []
        if images:
            question = row.get(self.question_key)
            if not isinstance(question, str) or not question.strip():
                raise LLMError(ErrorKind.INPUT, f"image row needs a non-empty {self.question_key!r}")
            prompt = self.templates["seed_qa_image"].render(
                max_seeds=self.max_seeds,
                principles=self.image_principles,
                principle_help=PRINCIPLE_HELP[self.language],
                original_question=question,
                original_answer=str(row.get(self.answer_key) or ""),
                explanation=str(row.get(self.explanation_key) or ""),
            )
            schema = seed_set_schema(self.image_principles, self.max_seeds)
            names.append("seed_qa_image")
        else:
            background = row.get("background_document")
            if not isinstance(background, str) or not background.strip():
                raise LLMError(ErrorKind.INPUT, "row has no background_document")
            prompt = self.templates["seed_qa_text"].render(
                max_seeds=self.max_seeds,
                principles=self.principles,
                principle_help=PRINCIPLE_HELP[self.language],
                background=background,
                category=row.get("reasoning_category") or "",
            )
            schema = seed_set_schema(self.principles, self.max_seeds)
            names.append("seed_qa_text")
        return Request(self.system_messages() + self.user(prompt, images), schema, names)

    def check_reply(self, step, row, parsed):
        """The usable seeds (image rows skip the text checks), handed to `apply`; fewer than two refuse the reply."""
        seeds = [{"question": q.question, "answer": q.answer} for q in parsed.sub_questions[: self.max_seeds]]
        document = "" if row.get(self.image_key) else row.get("background_document") or ""
        kept, dropped, failure = check_seeds(seeds, document, self.language, self.max_seeds)
        return Checked(failure, {"seeds": kept, "dropped": dropped})

    def provenance_extra(self, row, parsed, state):
        return {"dropped_seeds": state["dropped"]} if parsed is not None else {}

    def apply(self, row, parsed, state):
        row["sub_questions"] = state["seeds"]
        row["relationship_category"] = parsed.relationship_category
        row["language"] = self.language
