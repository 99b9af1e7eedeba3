import fcntl
import json
import os
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS
from loguru import logger
from pydantic import PositiveInt

from ..anchors import ANCHORS, auc
from ..schemas import DepthBreadth
from .judge_base import FAILED, JudgeFilter

OP_NAME = "mindgym_depth_breadth_filter"


@OPERATORS.register_module(OP_NAME)
class MindgymDepthBreadthFilter(JudgeFilter):
    """LLM judge of reasoning depth and breadth (each 1-5), counted from what the judge lists.

    The judge lists the dependent steps a solver needs and the knowledge areas it draws on; depth and
    breadth are the list lengths (capped at 5). With `calibrate`, the judge first scores built-in shallow
    and deep anchors once per process; when it cannot rank them (AUC of depth + breadth below
    `calibration_min_auc`) it logs a warning line: the filter is close to blind. Reads
    `multihop_question` (else `query`), `multihop_answer` (else `response`), `sub_questions` and
    `images` (the image goes to the judge too). Stats: `mindgym_depth`, `mindgym_breadth` (numbers; -1
    when the judge failed) and `mindgym_judge_record` (JSON: steps, knowledge areas, raw reply, error,
    `judge_calibration`). Keeps rows within [min, max] on both; `on_judge_failure` decides rows the
    judge could not score."""

    primary_stat = "mindgym_depth"

    def __init__(
        self,
        min_depth: float = 3,
        max_depth: float = 5,
        min_breadth: float = 2,
        max_breadth: float = 5,
        on_judge_failure: str = "drop",
        calibrate: bool = True,
        calibration_min_auc: float = 0.75,
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
        :param on_judge_failure: keep or drop a row the judge could not score.
        :param calibrate: score the built-in anchors once per process and warn when the judge cannot rank them.
        :param calibration_min_auc: the anchors' ranking (0.5 = blind, 1 = perfect) below which it warns.
        :param backend: api, vllm, hf or local (env MINDGYM_BACKEND overrides).
        :param model: judge model (env MINDGYM_MODEL overrides).
        :param model_params: backend parameters.
        :param sampling_params: defaults to temperature 0 and 200 tokens for the judge.
        :param try_num: attempts per row until a reply parses (>= 1).
        :param cache_dir: request cache folder.
        :param language: en or zh (prompt language).
        :param prompt_templates: overrides by name (judge_depth_breadth).
        """
        super().__init__(*args, **kwargs)
        self.min_depth, self.max_depth, self.min_breadth, self.max_breadth = (
            min_depth,
            max_depth,
            min_breadth,
            max_breadth,
        )
        self.calibrate, self.calibration_min_auc = calibrate, float(calibration_min_auc)
        self._calibration = None
        self.init_judge(
            on_judge_failure,
            backend=backend,
            model=model,
            model_params=model_params,
            sampling_params={"temperature": 0.0, "max_tokens": 240, **(sampling_params or {})},
            try_num=try_num,
            cache_dir=cache_dir,
            language=language,
            prompt_templates=prompt_templates,
            templates={"judge_depth_breadth": ("question", "answer", "sub_questions")},
        )

    def _judge(self, items, keys):
        """(question, answer, sub_questions, row) items -> ChatResults, one batched call."""
        template = self.templates["judge_depth_breadth"]
        convs = [self.user(row, template.render(question=q, answer=a, sub_questions=subs)) for q, a, subs, row in items]
        results = self.llm.chat_batch(convs, schema=DepthBreadth, keys=keys)
        self.account(results)
        return results

    def calibration(self):
        """Score the anchors once per run: {"ok", "auc", "shallow", "deep"} (depth + breadth each). Worker
        processes share the result through the run's counts folder, so np workers send the anchors once."""
        if self._calibration is None and self.calibrate:
            path = os.path.join(self.counters.dir, f"{self._name}.{self._instance_id}.calibration")
            os.makedirs(self.counters.dir, exist_ok=True)
            with open(path + ".lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker scores; the others wait, then read
                if os.path.exists(path):
                    with open(path) as f:
                        self._calibration = json.load(f)
                else:
                    self._calibration = self._score_anchors()
                    with open(path + ".tmp", "w") as f:
                        json.dump(self._calibration, f)
                    os.replace(path + ".tmp", path)
            self.counters.notes["judge_calibration"] = self._calibration  # in the counts even if no row survives
        return self._calibration

    def _score_anchors(self):
        anchors = ANCHORS[self.language]
        items = [(q, a, [], {}) for level in ("shallow", "deep") for q, a in anchors[level]]
        res = self._judge(items, [f"anchor{i}" for i in range(len(items))])
        scores = [r.parsed.depth + r.parsed.breadth if r.ok else None for r in res]
        n = len(anchors["shallow"])
        shallow, deep = [s for s in scores[:n] if s is not None], [s for s in scores[n:] if s is not None]
        value = round(auc(shallow, deep), 3)
        if value < self.calibration_min_auc:
            logger.warning(
                f"{self._name}: the judge ranks shallow and deep anchor questions poorly (AUC {value} < "
                f"{self.calibration_min_auc}; depth+breadth shallow {shallow}, deep {deep}): with this judge model "
                "the depth/breadth filter is close to blind; use a stronger judge or set min_depth/min_breadth to 1"
            )
        return {"ok": value >= self.calibration_min_auc, "auc": value, "shallow": shallow, "deep": deep}

    def judge_batch(self, rows):
        calibration = self.calibration()
        items = [
            (
                r.get("multihop_question") or r.get(self.query_key) or "",
                r.get("multihop_answer") or r.get(self.response_key) or "",
                r.get("sub_questions") or [],
                r,
            )
            for r in rows
        ]
        out = []
        for res in self._judge(items, [r["_nonce"] for r in rows]):
            record = {"raw": (res.text or "")[:2000], "attempts": res.attempts, **self.llm.describe()}
            if calibration is not None:
                record["judge_calibration"] = calibration
            if res.ok:
                p = res.parsed
                record.update(steps=p.steps, knowledge_areas=p.knowledge_areas)
                depth, breadth = float(p.depth), float(p.breadth)
            else:
                record["error"] = res.error.to_dict()
                depth = breadth = FAILED
            out.append(
                {
                    "mindgym_depth": depth,
                    "mindgym_breadth": breadth,
                    "mindgym_judge_record": json.dumps(record, ensure_ascii=False),
                }
            )
        return out

    def failure_stats(self, message):
        record = {"error": {"kind": "input", "message": message}, **self.llm.describe()}
        return {
            "mindgym_depth": FAILED,
            "mindgym_breadth": FAILED,
            "mindgym_judge_record": json.dumps(record, ensure_ascii=False),
        }

    def in_band(self, stats):
        return self.bounds_ok(stats["mindgym_depth"], self.min_depth, self.max_depth) and self.bounds_ok(
            stats["mindgym_breadth"], self.min_breadth, self.max_breadth
        )
