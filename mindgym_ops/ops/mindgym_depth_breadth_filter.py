import json
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS
from loguru import logger
from pydantic import PositiveInt

from ..anchors import anchor_rows, blind_warning, calibration
from ..rules.material import not_steps
from ..schemas import DepthBreadth
from .base import FEEDBACK, Checked, Request
from .judge_base import FAILED, JudgeFilter, failure_policy

OP_NAME = "mindgym_depth_breadth_filter"
DEPTH, BREADTH, JUDGE_RECORD = "mindgym_depth", "mindgym_breadth", "mindgym_judge_record"


@OPERATORS.register_module(OP_NAME)
class MindgymDepthBreadthFilter(JudgeFilter):
    """LLM judge of reasoning depth and breadth (each 1-5), counted from what the judge lists.

    The judge lists the dependent steps a solver needs and the knowledge areas it draws on; depth and
    breadth are the list lengths (capped at 5). A list that is not one (a step that repeats the question, or
    only the answer as the step: `mindgym_ops.rules.material.not_steps`) is retried with the reason fed back,
    then counts as a judge failure. With `calibrate`, the judge first scores built-in shallow
    and deep anchors once per process; when it cannot rank them (AUC of depth + breadth below
    `calibration_min_auc`) it logs a warning line: the filter is close to blind. Reads
    `multihop_question` (else `query`), `multihop_answer` (else `response`), `sub_questions` and
    `images` (the image goes to the judge too). Stats: `mindgym_depth`, `mindgym_breadth` (numbers; -1
    when the judge failed) and `mindgym_judge_record` (JSON: steps, knowledge areas, raw reply, error,
    `judge_calibration`). Keeps rows within [min, max] on both; `on_failure` decides rows the judge
    could not score (the old `on_judge_failure: keep | drop` still works)."""

    primary_stat = DEPTH

    def __init__(
        self,
        min_depth: float = 3,
        max_depth: float = 5,
        min_breadth: float = 2,
        max_breadth: float = 5,
        on_failure: str = "drop",
        on_judge_failure: Optional[str] = None,
        calibrate: bool = True,
        calibration_min_auc: float = 0.75,
        image_root: Optional[str] = None,
        allow_external_images: bool = False,
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

        :param min_depth: keep rows with depth >= this.
        :param max_depth: keep rows with depth <= this.
        :param min_breadth: keep rows with breadth >= this.
        :param max_breadth: keep rows with breadth <= this.
        :param on_failure: drop or flag (keep, error in the judge record) a row the judge could not score.
        :param on_judge_failure: the old name of on_failure: keep (= flag) or drop.
        :param calibrate: score the built-in anchors once per process and warn when the judge cannot rank them.
        :param calibration_min_auc: the anchors' ranking (0.5 = blind, 1 = perfect) below which it warns.
        :param image_root: image rows: images must lie inside this folder (default: the working directory).
        :param allow_external_images: accept image paths outside image_root.
        :param backend: api, vllm, hf or local (env MINDGYM_BACKEND overrides).
        :param model: judge model (env MINDGYM_MODEL overrides).
        :param model_params: backend parameters.
        :param sampling_params: defaults to temperature 0 and 240 tokens for the judge.
        :param try_num: attempts per row until a reply parses (>= 1).
        :param cache_dir: request cache folder.
        :param language: en or zh (prompt language).
        :param prompt_templates: overrides by name (judge_depth_breadth, retry_feedback).
        """
        super().__init__(*args, **kwargs)
        self.min_depth, self.max_depth = min_depth, max_depth
        self.min_breadth, self.max_breadth = min_breadth, max_breadth
        self.calibrate, self.calibration_min_auc = calibrate, float(calibration_min_auc)
        self._calibration = None
        self.init_llm(
            locals(),
            on_failure=failure_policy(on_failure, on_judge_failure),
            templates={"judge_depth_breadth": ("question", "answer", "sub_questions"), "retry_feedback": FEEDBACK},
            sampling_defaults={"temperature": 0.0, "max_tokens": 240},
        )

    def judge_rows(self, rows):
        self.calibration()  # before the rows: a blind judge is reported even when no row survives
        return super().judge_rows(rows)

    def request(self, step, row, replies):
        question, answer = self.question(row)
        text = self.templates["judge_depth_breadth"].render(
            question=question, answer=answer, sub_questions=row.get("sub_questions") or []
        )
        return Request(self.user(text, row.get(self.image_key) or []), DepthBreadth, ("judge_depth_breadth",))

    def calibration(self) -> Optional[Dict]:
        """Score the anchors once per run: {"ok", "auc", "shallow", "deep"} (depth + breadth each)."""
        if self._calibration is None and self.calibrate:
            self._calibration = self.counters.once("calibration", self._score_anchors)
            self.counters.notes["judge_calibration"] = self._calibration  # in the counts even if no row survives
        return self._calibration

    def _score_anchors(self) -> Dict:
        rows = anchor_rows(self.language)
        replies = self.ask_rows("judge", rows, [self.request("judge", r, {}) for r in rows])
        found = calibration([r.parsed.depth + r.parsed.breadth if r.ok else None for (r,) in replies], self.language,
                            self.calibration_min_auc)  # fmt: skip
        if not found["ok"]:
            logger.warning(blind_warning(self._name, found, self.calibration_min_auc))
        return found

    def check_reply(self, step, row, parsed):
        """A list of steps that is not one: the question copied as a step, or the answer given as the only step (the
        0.5B judge listed ["102 years"] for a two-lookup difference, and a deep anchor's question as its one step)."""
        return Checked(not_steps(parsed.steps, *self.question(row), self.language))

    def score(self, row, replies):
        (res,) = replies["judge"]
        record = {"raw": (res.text or "")[:2000], "attempts": res.attempts, **self.llm.describe()}
        if self._calibration is not None:
            record["judge_calibration"] = self._calibration
        if res.ok:
            record.update(steps=res.parsed.steps, knowledge_areas=res.parsed.knowledge_areas)
            return self._stats(float(res.parsed.depth), float(res.parsed.breadth), record)
        return self._stats(FAILED, FAILED, {**record, "error": res.error.to_dict()})

    def failure_stats(self, message):
        return self._stats(FAILED, FAILED, {"error": {"kind": "input", "message": message}, **self.llm.describe()})

    @staticmethod
    def _stats(depth: float, breadth: float, record: Dict) -> Dict:
        return {DEPTH: depth, BREADTH: breadth, JUDGE_RECORD: json.dumps(record, ensure_ascii=False)}

    def in_band(self, stats):
        return self.bounds_ok(stats[DEPTH], self.min_depth, self.max_depth) and self.bounds_ok(
            stats[BREADTH], self.min_breadth, self.max_breadth
        )
