import json
import zlib
from typing import Dict, List, Optional, Tuple

from data_juicer.ops.base_op import OPERATORS
from loguru import logger
from pydantic import PositiveInt

from ..drafts import expected_difference, option_by_value
from ..matching import gives, match, options, picked
from ..schemas import Solution, agreement_schema
from ..text import cut_to_budget
from .base import Request
from .judge_base import FAILED, JudgeFilter, failure_policy
from .rows import ROW_ID, answer_source
from .wording import CONTROL_ANSWER

OP_NAME = "mindgym_self_consistency_filter"
SOLVE_RATE, SOLVE_RECORD = "mindgym_solve_rate", "mindgym_solve_record"


@OPERATORS.register_module(OP_NAME)
class MindgymSelfConsistencyFilter(JudgeFilter):
    """Self-challenge check: re-solves each question k times and keeps the challenging-but-solvable band.

    The solver (the op's model: by default the generator's) answers `multihop_question` (else
    `query`) k times without seeing the answer, writing its working before its answer (a 0.5B solver that
    answers at once guesses a subtraction). It reads the row's source material, as it sees an
    image row's images: the text in `context_key` (default `background_document`, the invented report
    the question was written from; absent or empty: the question alone). Without it a question about
    invented facts is a guess, and the band would keep coin flips. A normalised match decides short
    numeric or choice answers; one judge call per row decides the attempts the rule cannot, and a
    verdict of the rule stands. Stats: `mindgym_solve_rate` (0-1; -1 when undecidable) and
    `mindgym_solve_record` (JSON: attempts, the working of each, verdicts, method: rule, judge or
    rule+judge). The judge also sees a control among the attempts, a non-answer ("I cannot tell from the
    text."): a judge that calls it right is not reading (the 0.5B said "true" to every attempt), so its
    verdicts are set aside, the attempts only it could decide count as unsolved, and the record says
    `judge_control: failed` (counted in the op's notes and the report, with one warning). Keeps rows
    with min_solve_rate <= rate <= max_solve_rate (default: solved at least once and not every time).

    The solve rate is the row's difficulty, not a verdict on its answer: an answer that code works out from
    two seed answers found in the document (`answer_source: code`, see `mindgym_ops.drafts.worked_out`) is
    verified by construction, and a solver that misses it says the question is hard for this model, which
    is what a curriculum should teach. Such a row is kept below min_solve_rate (`verified_hard` in its solve
    record, counted in the op's notes); `keep_verified_hard: false` restores the strict band. The upper
    edge (too easy) holds for every row."""

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
        :param min_solve_rate: keep rows solved at least this often; default 1/k (solved at least once).
        :param max_solve_rate: keep rows solved at most this often; default (k-1)/k (not every time).
        :param solver_temperature: sampling temperature of the solver (attempts must differ).
        :param context_key: the row field the solver reads before the question (its source text); None or
            "" for the question alone.
        :param max_context_tokens: the context is cut to about this many tokens.
        :param keep_verified_hard: keep a row solved less often than min_solve_rate when code worked its answer
            out from seed answers found in the document (verified, so hard rather than wrong); false: the strict
            band drops it as too hard.
        :param on_failure: drop or flag (keep, error in the solve record) a row whose attempts or verdicts could
            not be obtained.
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
        self.k = k
        self.min_solve_rate = 1.0 / k if min_solve_rate is None else min_solve_rate
        self.max_solve_rate = (k - 1.0) / k if max_solve_rate is None else max_solve_rate
        if k == 1 and max_solve_rate is None:
            self.max_solve_rate = 1.0
        self.solver_sampling = {"temperature": solver_temperature}
        self.context_key, self.max_context_tokens = context_key or None, max_context_tokens
        self.keep_verified_hard = keep_verified_hard
        self.init_llm(
            locals(),
            on_failure=failure_policy(on_failure, on_judge_failure),
            templates={"solve": ("question", "context"), "agree": ("question", "reference", "attempts")},
            sampling_defaults={"max_tokens": 256},
        )

    @staticmethod
    def attempts(replies) -> List[Optional[str]]:
        return [res.parsed.answer if res.ok else None for res in replies["solve"]]

    @staticmethod
    def rule(row, question: str, reference: str, attempt: str) -> Optional[bool]:
        """The rule's verdict on one attempt, or None: a normalised match, else, for a choice question over
        measured seeds, the option the attempt names by its value ("80000" for the option whose seed
        answer is "$80,000"); an attempt that gives a number that is neither option's value, and names no
        option, is wrong. For a question that asks how far apart two measured seed answers are, the number the
        attempt gives (`matching.gives`: an equation's result, else its first or last number, sign aside) must
        be that difference; an attempt in words goes to the judge (the multi-hop mapper already refused a
        reference that does not state the difference)."""
        verdict = match(reference, attempt, question)
        seeds = row.get("sub_questions")
        if verdict is None and seeds:
            want = expected_difference(question, seeds)
            if want is not None:  # how far apart two seed answers are: the number given decides
                return gives(attempt, want, signed=False)
            # -1: a number that is neither option's value answers nothing, so it is never the right option
            said, right = option_by_value(question, attempt, seeds), picked(reference, options(question))
            verdict = None if said is None or right is None else said == right
        return verdict

    def undecided(self, row, attempts: List[Optional[str]], question: str, reference: str) -> List[str]:
        """The attempts that parsed and that the rule cannot decide: only these go to the agreement judge
        (a small judge says "true" to anything; an attempt the rule has decided keeps its verdict)."""
        return [a for a in attempts if a is not None and self.rule(row, question, reference, a) is None]

    def shown(self, row, replies) -> Tuple[List[str], int]:
        """What the agreement judge is shown: the undecided attempts with the control among them (at a place
        fixed by the row, so that a rerun sends the same request), and the control's index; ([], -1) when the
        rule decides every attempt."""
        question, reference = self.question(row)
        shown = self.undecided(row, self.attempts(replies), question, reference)
        if not shown:
            return [], -1
        at = self.control_at(row, len(shown))
        return shown[:at] + [CONTROL_ANSWER[self.language]] + shown[at:], at

    @staticmethod
    def control_at(row, undecided: int) -> int:
        """Where the control stands among a row's `undecided` attempts: fixed by the row id."""
        return zlib.crc32(str(row.get(ROW_ID, "")).encode()) % (undecided + 1)

    def request(self, step, row, replies):
        question, reference = self.question(row)
        images = row.get(self.image_key) or []
        if step == "solve":  # the k attempts share one conversation
            context = str(row.get(self.context_key) or "").strip() if self.context_key else ""
            context = cut_to_budget(context, self.max_context_tokens)[0]
            text = self.templates["solve"].render(question=question, context=context)
            return Request(self.user(text, images), Solution, ("solve",), self.solver_sampling, self.k, "#solve", True)
        shown, _ = self.shown(row, replies)
        if not shown:
            return None  # nothing parsed, or the rule decides every attempt
        # only the attempts the rule cannot decide are shown (with the control), one verdict each
        text = self.templates["agree"].render(question=question, reference=reference, attempts=shown)
        sampling = {"temperature": 0.0, "max_tokens": 20 + 8 * len(shown)}
        return Request(self.user(text, images), agreement_schema(len(shown)), ("agree",), sampling, tag="#agree")

    def score(self, row, replies):
        attempts = self.attempts(replies)
        record = {"attempts": attempts, "method": "rule", "answer_source": answer_source(row, self.image_key)}
        record.update(self.llm.describe())
        record["working"] = [res.parsed.reasoning[:300] if res.ok else None for res in replies["solve"]]
        record["solver_failures"] = sum(a is None for a in attempts)
        question, reference = self.question(row)
        ruled = [self.rule(row, question, reference, a) if a is not None else False for a in attempts]
        verdicts = [bool(v) for v in ruled]
        if all(a is None for a in attempts):
            record["error"] = "no attempt parsed"
        elif "agree" in replies:
            (res,) = replies["agree"]
            by_rule = any(v is not None for a, v in zip(attempts, ruled) if a is not None)
            record["method"] = "rule+judge" if by_rule else "judge"
            if res.ok:
                said = list(res.parsed.verdicts)
                control = said.pop(self.control_at(row, len(said) - 1))  # one verdict per attempt shown, + 1
                record["judge_control"] = self.control("failed" if control else "passed")
                said = iter([False] * len(said) if control else said)
                verdicts = [bool(next(said)) if v is None else v for v in ruled]
            else:
                record["error"] = res.error.to_dict()
        record["verdicts"] = verdicts
        rate = FAILED if "error" in record else sum(verdicts) / self.k
        if rate != FAILED and rate < self.min_solve_rate and record["answer_source"] == "code":
            record["verified_hard"] = True  # hard for this solver, right by construction
            if self.keep_verified_hard:
                tally = self.counters.notes.setdefault("verified_hard", {"kept": 0})
                tally["kept"] += 1
        return {SOLVE_RATE: rate, SOLVE_RECORD: json.dumps(record, ensure_ascii=False)}

    def control(self, outcome: str) -> str:
        """Count the control's outcome in the op's notes (the report shows them); warn at the first failure."""
        tally = self.counters.notes.setdefault("agree_control", {"passed": 0, "failed": 0})
        if outcome == "failed" and not tally["failed"]:
            logger.warning(
                f"{OP_NAME}: the agreement judge called a non-answer right ({self.llm.model}); attempts only it "
                "could decide count as unsolved: use a stronger judge model"
            )
        tally[outcome] += 1
        return outcome

    def failure_stats(self, message):
        record = {"attempts": [], "verdicts": [], "method": "none", "error": message, **self.llm.describe()}
        return {SOLVE_RATE: FAILED, SOLVE_RECORD: json.dumps(record, ensure_ascii=False)}

    def out_of_band(self, stats):
        """too_hard (solved less often than min_solve_rate) or too_easy: which side the solver misses on."""
        return "too_hard" if stats[SOLVE_RATE] < self.min_solve_rate else "too_easy"

    def empty_hint(self, totals):
        """Which side the band missed on, and what moves it: a solver that can work the questions out, or
        questions that need more than a lookup."""
        hard, easy = (totals["dropped"].get(f"{SOLVE_RATE}_too_{side}", 0) for side in ("hard", "easy"))
        if not hard and not easy:
            return ""
        if hard >= easy:
            return (
                f": the solver ({self.llm.model}) solved {hard} of them less often than min_solve_rate "
                f"({self.min_solve_rate:g}); a stronger solver model (backend api or vllm) keeps the questions it "
                "can work out"
            )
        return (
            f": the solver ({self.llm.model}) solved {easy} of them more often than max_solve_rate "
            f"({self.max_solve_rate:g}); they need harder questions"
        )

    def in_band(self, stats):
        rate = stats[SOLVE_RATE]
        if self.keep_verified_hard and rate < self.min_solve_rate:
            return bool(json.loads(stats[SOLVE_RECORD]).get("verified_hard"))  # right by construction, hard here
        return self.bounds_ok(rate, self.min_solve_rate, self.max_solve_rate)
