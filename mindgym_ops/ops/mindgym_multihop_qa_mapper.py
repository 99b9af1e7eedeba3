from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS, TAGGING_OPS
from pydantic import PositiveInt

from ..llm import ErrorKind, LLMError
from ..pairing import similarity
from ..rules.checks import SubstanceThresholds, check_multihop, leaves_draft
from ..rules.seeds import worked_out
from ..schemas import MultiHop, check_choice
from .base import FEEDBACK, Checked, Request
from .cross_rows import SOURCES, cross_provenance, pair_units, seed_source
from .mapper_base import GenerationMapper

OP_NAME = "mindgym_multihop_qa_mapper"
COMBINE = ("within_row", "across_rows")


@TAGGING_OPS.register_module(OP_NAME)
@OPERATORS.register_module(OP_NAME)
class MindgymMultihopQaMapper(GenerationMapper):
    """Combines seed QAs into one multi-hop question, a detailed answer and the thinking.

    Reads `sub_questions`, `relationship_category`, `background_document` (and `images`). `combine: within_row`
    uses one row's seeds; `across_rows` bridges the seeds of two rows of a batch that share an entity or topic.
    The thinking holds reasoning only. A reply that is not multi-hop (`mindgym_ops.rules.checks`: copies a seed or
    the prompt, states an answer it should hide, draws on fewer than `min_seeds` seeds, answers wrong, or leaves
    the worked draft it was shown) is retried with the reason fed back, then dropped or flagged as
    `multihop_<check>`. Writes `multihop_question`, `multihop_answer`, `thinking`, `answer_source` (`code`: worked
    out from seed answers found in the document, `rules.seeds.worked_out`; else `model`) and `query`/`response`."""

    step = "multihop"
    meta_key = "mindgym_multihop"
    output_defaults = {
        "multihop_question": "",
        "multihop_answer": "",
        "thinking": "",
        "answer_source": "",
        "query": "",
        "response": "",
    }

    def __init__(
        self,
        combine: str = "within_row",
        pair_by: str = "auto",
        min_pair_similarity: float = 0.05,
        max_seed_overlap: float = 0.7,
        min_seeds: PositiveInt = 2,
        seed_use_overlap: float = 0.4,
        drafts: bool = True,
        verify_drafts: bool = True,
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

        :param combine: within_row (the paper) or across_rows (bridge two rows of a batch).
        :param pair_by: across_rows similarity: auto, embedding or lexical.
        :param min_pair_similarity: rows less similar than this are not paired (they combine alone).
        :param max_seed_overlap: a question whose content words come from one seed question at least this
            much copies it (a seed question contained in it always does).
        :param min_seeds: seeds the question and its thinking must draw on.
        :param seed_use_overlap: a seed counts as drawn on when this share of its question's words appears.
        :param drafts: show a Comparison or Temporal set a worked draft built from two seeds (rules.drafts).
        :param verify_drafts: a set shown a draft must end in a question whose answer code works out (the draft, or a
            rewording that keeps both parts; else `multihop_leaves_draft`); false: any question the checks pass.
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
        :param prompt_templates: overrides by name (multihop_qa, thinking_protocol).
        :param thinking_protocol: send our concise thinking protocol as the system prompt.
        """
        super().__init__(*args, **kwargs)
        check_choice("combine", combine, COMBINE)
        self.combine = combine
        self.pair_by = pair_by
        similarity([], pair_by)  # validates pair_by now, at config time
        self.min_pair_similarity = min_pair_similarity
        self.limits = SubstanceThresholds(max_seed_overlap, int(min_seeds), seed_use_overlap)
        self.drafts, self.verify_drafts = drafts, verify_drafts
        self.init_llm(
            locals(),
            on_failure=on_failure,
            templates={"multihop_qa": ("sources",), "thinking_protocol": (), "retry_feedback": FEEDBACK},
            thinking_protocol=thinking_protocol,
        )
        if combine == "across_rows" and self._recipe_batch_size is None:
            self.batch_size = max(self.batch_size, 8)  # rows pair only within a batch

    def units(self, rows):
        if self.combine == "within_row":
            return rows
        return pair_units(rows, self.pair_by, self.min_pair_similarity, self.image_key, self.drafts)

    def prepare(self, row):
        if not row.get("sub_questions"):
            raise LLMError(ErrorKind.INPUT, "row has no sub_questions")
        cross = row.get(SOURCES)
        sources = cross["sources"] if cross else [seed_source(row, self.drafts)]
        prompt = self.templates["multihop_qa"].render(sources=sources)
        names = ["multihop_qa"] + (["thinking_protocol"] if self.use_thinking else [])
        return Request(self.system_messages() + self.user(prompt, row.get(self.image_key) or []), MultiHop, names)

    def check_reply(self, step, row, parsed):
        """The substance checks, and `leaves_draft` for a set shown a worked draft (`verify_drafts`); how the answer
        is known goes to `apply`."""
        question, answer, seeds = parsed.multihop_question, parsed.multihop_answer, row["sub_questions"]
        document = "" if row.get(self.image_key) else row.get("background_document") or ""
        worked = worked_out(question, answer, seeds, document)
        shown = seed_source(row, self.drafts) if self.verify_drafts and document and not row.get(SOURCES) else {}
        draft = (shown["draft"], shown["draft_answer"]) if shown.get("draft") else None
        failed = check_multihop(question, answer, parsed.thinking, seeds, self.limits, self.language)
        return Checked(
            failed or leaves_draft(draft, worked, self.language), {"answer_source": "code" if worked else "model"}
        )

    def provenance_extra(self, row, parsed, state):
        return cross_provenance(row)

    def apply(self, row, parsed, state):
        row["thinking"] = parsed.thinking
        row["multihop_question"] = row["query"] = parsed.multihop_question
        row["multihop_answer"] = row["response"] = parsed.multihop_answer
        row["answer_source"] = state["answer_source"]
