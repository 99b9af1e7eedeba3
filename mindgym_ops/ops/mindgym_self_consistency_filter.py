import json
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS
from pydantic import PositiveInt

from ..schemas import Solution, agreement_schema
from ..text import cut_to_budget
from . import solving
from .base import Request
from .judge_base import FAILED, JudgeFilter, failure_policy
from .rows import ROW_ID, answer_source

OP_NAME = "mindgym_self_consistency_filter"
SOLVE_RATE, SOLVE_RECORD = "mindgym_solve_rate", "mindgym_solve_record"


@OPERATORS.register_module(OP_NAME)
class MindgymSelfConsistencyFilter(JudgeFilter):
    """Self-challenge check: re-solves each question k times and keeps the challenging-but-solvable band.

    The solver answers `multihop_question` (else `query`) k times without the answer, writing its working first,
    after reading the row's source: the text in `context_key` (default `background_document`; empty: the question
    alone) and an image row's images. The rule (`mindgym_ops.rules.answers.verdict`) decides numbers, choice
    letters, options and the difference of two measured seeds; one agreement-judge call per row decides the other
    attempts, shown with a control, a non-answer: a judge that calls it right is set aside (`judge_control:
    failed`, counted, one warning). Stats: `mindgym_solve_rate` (0-1, -1 when undecidable) and
    `mindgym_solve_record` (JSON: attempts, working, verdicts, method, `answer_source`). Keeps rows with
    min_solve_rate <= rate <= max_solve_rate. The rate is the row's difficulty, not a verdict on its answer: a row
    whose answer code worked out from seed answers found in its document (`answer_source: code`) is kept below
    min_solve_rate (`verified_hard`, counted) unless `keep_verified_hard: false`. The upper edge holds for all."""

    primary_stat = SOLVE_RATE
    steps = ("solve", "agree")

    def __init__(
        self,
        k: PositiveInt = 4,
        min_solve_rate: Optional[float] = None,
        max_solve_rate: Optional[float] = None,
        solver_temperature: float = 0.8,
        context_key: Optional[str] = "background_document",
        max_context_tokens: PositiveInt = 1500,
        keep_verified_hard: bool = True,
        image_root: Optional[str] = None,
        allow_external_images: bool = False,
        on_failure: str = "drop",
        on_judge_failure: Optional[str] = None,
        backend: Optional[str] = None,
        model: Optional[str] = None,
        model_params: Optional[Dict] = None,
        sampling_params: Optional[Dict] = None,
        try_num: PositiveInt = 3,
        cache_dir: Optional[str] = None,
        language: str = "en",
        prompt_templates: Optional[Dict[str, str]] = None,
        *args,
        **kwargs,
    ):
        """
        Initialization method.

        :param k: attempts per question.
        :param min_solve_rate: keep rows solved at least this often; default 1/k (at least once).
        :param max_solve_rate: keep rows solved at most this often; default (k-1)/k (not every time).
        :param solver_temperature: sampling temperature of the solver (attempts must differ).
        :param context_key: the row field the solver reads before the question; None or "" for the question alone.
        :param max_context_tokens: the context is cut to about this many tokens.
        :param keep_verified_hard: keep a row below min_solve_rate whose answer code worked out from seed answers found
            in the document (right by construction, so hard rather than wrong); false: the strict band.
        :param image_root: image rows: images must lie inside this folder (default: the working directory).
        :param allow_external_images: accept image paths outside image_root.
        :param on_failure: drop or flag (kept, error in the solve record) a row with no attempts or verdicts.
        :param on_judge_failure: the old name of on_failure: keep (= flag) or drop.
        :param backend: api, vllm, hf or local (env MINDGYM_BACKEND overrides).
        :param model: solver and judge model (env MINDGYM_MODEL overrides).
        :param model_params: backend parameters.
        :param sampling_params: solver sampling (max_tokens, seed, ...).
        :param try_num: attempts per call until a reply parses (>= 1).
        :param cache_dir: request cache folder.
        :param language: en or zh (prompt language).
        :param prompt_templates: overrides by name (solve, agree).
        """
        super().__init__(*args, **kwargs)
        self.k, self.min_solve_rate = k, 1.0 / k if min_solve_rate is None else min_solve_rate
        self.max_solve_rate = ((k - 1.0) / k if k > 1 else 1.0) if max_solve_rate is None else max_solve_rate
        self.solver_sampling, self.keep_verified_hard = {"temperature": solver_temperature}, keep_verified_hard
        self.context_key, self.budget = context_key or None, max_context_tokens
        self.init_llm(
            locals(),
            on_failure=failure_policy(on_failure, on_judge_failure),
            templates={"solve": ("question", "context"), "agree": ("question", "reference", "attempts")},
            sampling_defaults={"max_tokens": 256},
        )

    def request(self, step, row, replies):
        question, reference = self.question(row)
        images = row.get(self.image_key) or []
        if step == "solve":  # the k attempts share one conversation
            context = str(row.get(self.context_key) or "").strip() if self.context_key else ""
            text = self.templates["solve"].render(question=question, context=cut_to_budget(context, self.budget)[0])
            return Request(self.user(text, images), Solution, ("solve",), self.solver_sampling, self.k, "#solve", True)
        said = solving.attempts(replies["solve"])
        verdicts = solving.ruled(row, question, reference, said)
        self.checked[("rule", row[ROW_ID])] = {"verdicts": verdicts}  # decided once, read again by score
        shown = solving.shown(row, said, verdicts, self.language)
        if not shown:
            return None  # nothing parsed, or the rule decides every attempt
        text = self.templates["agree"].render(question=question, reference=reference, attempts=shown)
        sampling = {"temperature": 0.0, "max_tokens": 20 + 8 * len(shown)}
        return Request(self.user(text, images), agreement_schema(len(shown)), ("agree",), sampling, tag="#agree")

    def score(self, row, replies):
        said = solving.attempts(replies["solve"])
        verdicts = self.checked[("rule", row[ROW_ID])]["verdicts"]
        record = {"attempts": said, "method": solving.method(verdicts, said, "agree" in replies), **self.llm.describe()}
        record.update(answer_source=answer_source(row, self.image_key), solver_failures=said.count(None))
        record["working"] = [res.parsed.reasoning[:300] if res.ok else None for res in replies["solve"]]
        if all(a is None for a in said):
            record["error"] = "no attempt parsed"
        elif "agree" in replies and not replies["agree"][0].ok:
            record["error"] = replies["agree"][0].error.to_dict()
        elif "agree" in replies:
            verdicts, control = solving.with_judge(row, verdicts, replies["agree"][0].parsed.verdicts)
            outcome = "failed" if control else "passed"
            record["judge_control"] = solving.count_control(self.counters.notes, outcome, self.llm.model)
        record["verdicts"] = [bool(v) for v in verdicts]
        rate = FAILED if "error" in record else sum(record["verdicts"]) / self.k
        if rate != FAILED and rate < self.min_solve_rate and record["answer_source"] == "code":
            record["verified_hard"] = True  # hard for this solver, right by construction
            if self.keep_verified_hard:
                self.counters.notes.setdefault("verified_hard", {"kept": 0})["kept"] += 1
        return {SOLVE_RATE: rate, SOLVE_RECORD: json.dumps(record, ensure_ascii=False)}

    def failure_stats(self, message):
        record = {"attempts": [], "verdicts": [], "method": "none", "error": message, **self.llm.describe()}
        return {SOLVE_RATE: FAILED, SOLVE_RECORD: json.dumps(record, ensure_ascii=False)}

    def out_of_band(self, stats):  # which side the solver misses on
        return "too_hard" if stats[SOLVE_RATE] < self.min_solve_rate else "too_easy"

    def empty_hint(self, totals):
        return solving.empty_hint(totals["dropped"], self.llm.model, self.min_solve_rate, self.max_solve_rate)

    def in_band(self, stats):
        rate = stats[SOLVE_RATE]
        if self.keep_verified_hard and rate < self.min_solve_rate:
            return bool(json.loads(stats[SOLVE_RECORD]).get("verified_hard"))  # right by construction, hard here
        return self.bounds_ok(rate, self.min_solve_rate, self.max_solve_rate)
