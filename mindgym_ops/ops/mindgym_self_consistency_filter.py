import json
from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS
from pydantic import PositiveInt

from ..matching import match
from ..schemas import Solution, agreement_schema
from .judge_base import FAILED, JudgeFilter

OP_NAME = "mindgym_self_consistency_filter"


@OPERATORS.register_module(OP_NAME)
class MindgymSelfConsistencyFilter(JudgeFilter):
    """Self-challenge check: re-solves each question k times and keeps the challenging-but-solvable band.

    The solver (the op's model: by default the generator's) answers `multihop_question` (else
    `query`) k times without seeing the answer; a normalised match decides short numeric or
    choice answers, a judge call decides the rest (all k attempts in one request). Stats:
    `mindgym_solve_rate` (0-1; -1 when undecidable) and `mindgym_solve_record` (JSON: attempts,
    verdicts, method). Keeps rows with min_solve_rate <= rate <= max_solve_rate (default: solved at
    least once and not every time)."""

    primary_stat = "mindgym_solve_rate"

    def __init__(
        self,
        k: PositiveInt = 4,
        min_solve_rate: Optional[float] = None,
        max_solve_rate: Optional[float] = None,
        solver_temperature: float = 0.8,
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

        :param k: attempts per question.
        :param min_solve_rate: keep rows solved at least this often; default 1/k (solved at least once).
        :param max_solve_rate: keep rows solved at most this often; default (k-1)/k (not every time).
        :param solver_temperature: sampling temperature of the solver (attempts must differ).
        :param on_judge_failure: keep or drop a row whose attempts or verdicts could not be obtained.
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
        self.solver_temperature = solver_temperature
        self.init_judge(
            on_judge_failure,
            backend=backend,
            model=model,
            model_params=model_params,
            sampling_params={"max_tokens": 256, **(sampling_params or {})},
            try_num=try_num,
            cache_dir=cache_dir,
            language=language,
            prompt_templates=prompt_templates,
            templates={"solve": ("question",), "agree": ("question", "reference", "attempts")},
        )

    def judge_batch(self, rows):
        questions = [r.get("multihop_question") or r.get(self.query_key) or "" for r in rows]
        references = [r.get("multihop_answer") or r.get(self.response_key) or "" for r in rows]
        solve = self.templates["solve"]
        convs, keys = [], []
        for r, q in zip(rows, questions):
            conv = self.user(r, solve.render(question=q))  # the k attempts share one conversation
            for j in range(self.k):
                convs.append(conv)
                keys.append(f"{r['_nonce']}#solve{j}")
        solved = self.llm.chat_batch(
            convs, sampling={"temperature": self.solver_temperature}, schema=Solution, keys=keys
        )
        self.account(solved)
        records, judge_rows = [], []
        for n, (r, q, ref) in enumerate(zip(rows, questions, references)):
            attempts = [res.parsed.answer if res.ok else None for res in solved[n * self.k : (n + 1) * self.k]]
            verdicts = [match(ref, a) if a is not None else False for a in attempts]
            rec = {
                "attempts": attempts,
                "verdicts": verdicts,
                "method": "rule",
                **self.llm.describe(),
                "solver_failures": sum(a is None for a in attempts),
            }
            if all(a is None for a in attempts):
                rec["error"] = "no attempt parsed"
            elif any(v is None for v in verdicts):
                rec["method"] = "judge"
                judge_rows.append(n)
            records.append(rec)
        if judge_rows:
            # only attempts that parsed are shown, and the schema asks for exactly one verdict each
            shown = {n: [j for j, a in enumerate(records[n]["attempts"]) if a is not None] for n in judge_rows}
            agree = self.templates["agree"]
            by_count = {}
            for n in judge_rows:
                by_count.setdefault(len(shown[n]), []).append(n)
            for count, group in by_count.items():
                judged = self.llm.chat_batch(
                    [
                        self.user(
                            rows[n],
                            agree.render(
                                question=questions[n],
                                reference=references[n],
                                attempts=[records[n]["attempts"][j] for j in shown[n]],
                            ),
                        )
                        for n in group
                    ],
                    sampling={"temperature": 0.0, "max_tokens": 20 + 8 * count},
                    schema=agreement_schema(count),
                    keys=[f"{rows[n]['_nonce']}#agree" for n in group],
                )
                self.account(judged)
                for n, res in zip(group, judged):
                    rec = records[n]
                    if res.ok:
                        verdicts = [False] * self.k
                        for j, v in zip(shown[n], res.parsed.verdicts):
                            verdicts[j] = bool(v)
                        rec["verdicts"] = verdicts
                    else:
                        rec["error"] = res.error.to_dict()
        out = []
        for rec in records:
            rate = FAILED if "error" in rec else sum(bool(v) for v in rec["verdicts"]) / self.k
            out.append({"mindgym_solve_rate": rate, "mindgym_solve_record": json.dumps(rec, ensure_ascii=False)})
        return out

    def failure_stats(self, message):
        record = {"attempts": [], "verdicts": [], "method": "none", "error": message, **self.llm.describe()}
        return {"mindgym_solve_rate": FAILED, "mindgym_solve_record": json.dumps(record, ensure_ascii=False)}

    def in_band(self, stats):
        return self.bounds_ok(stats["mindgym_solve_rate"], self.min_solve_rate, self.max_solve_rate)
