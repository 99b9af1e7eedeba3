import json
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS
from pydantic import PositiveInt

from ..schemas import DepthBreadth
from .judge_base import FAILED, JudgeFilter

OP_NAME = "mindgym_depth_breadth_filter"


@OPERATORS.register_module(OP_NAME)
class MindgymDepthBreadthFilter(JudgeFilter):
    """LLM judge of reasoning depth and breadth (each 1-5, with a one-line reason).

    Reads `multihop_question` (else `query`), `multihop_answer` (else `response`), `sub_questions`
    and `images` (the image goes to the judge too). Stats: `mindgym_depth`, `mindgym_breadth`
    (numbers; -1 when the judge failed) and `mindgym_judge_record` (JSON: reasons, raw reply,
    error). Keeps rows within [min, max] on both; `on_judge_failure` decides rows the judge could
    not score."""

    primary_stat = "mindgym_depth"

    def __init__(
        self,
        min_depth: float = 3,
        max_depth: float = 5,
        min_breadth: float = 2,
        max_breadth: float = 5,
        on_judge_failure: str = "drop",
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
        self.init_judge(
            on_judge_failure,
            backend=backend,
            model=model,
            model_params=model_params,
            sampling_params={"temperature": 0.0, "max_tokens": 200, **(sampling_params or {})},
            try_num=try_num,
            cache_dir=cache_dir,
            language=language,
            prompt_templates=prompt_templates,
            templates={"judge_depth_breadth": ("question", "answer", "sub_questions")},
        )

    def judge_batch(self, rows):
        template = self.templates["judge_depth_breadth"]
        convs = [
            self.user(
                r,
                template.render(
                    question=r.get("multihop_question") or r.get(self.query_key) or "",
                    answer=r.get("multihop_answer") or r.get(self.response_key) or "",
                    sub_questions=r.get("sub_questions") or [],
                ),
            )
            for r in rows
        ]
        results = self.llm.chat_batch(convs, schema=DepthBreadth, keys=[r["_nonce"] for r in rows])
        self.account(results)
        out = []
        for res in results:
            record = {"raw": (res.text or "")[:2000], "attempts": res.attempts, **self.llm.describe()}
            if res.ok:
                p = res.parsed
                record.update(depth_reason=p.depth_reason, breadth_reason=p.breadth_reason)
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
