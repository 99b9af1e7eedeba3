"""What the self-consistency filter makes of its solver's attempts: the rule's verdicts, what the agreement judge is
shown (the attempts the rule cannot decide, and a control), the verdicts once the judge has answered, and the solve
rate's record. The filter (mindgym_self_consistency_filter) sends the requests; these decide."""

import zlib
from typing import Any, Dict, List, Optional, Tuple

from loguru import logger

from ..rules.answers import verdict
from .rows import ROW_ID
from .wording import CONTROL_ANSWER


def attempts(solve_replies) -> List[Optional[str]]:
    """The answer of each of the k attempts, None for one that never parsed."""
    return [res.parsed.answer if res.ok else None for res in solve_replies]


def ruled(row: Dict[str, Any], question: str, reference: str, said: List[Optional[str]]) -> List[Optional[bool]]:
    """The rule's verdict on each attempt (`rules.answers.verdict` over the row's seeds): True or False where it can
    decide, None for an attempt a judge must decide, False for one that never parsed."""
    seeds = row.get("sub_questions") or []
    return [verdict(question, reference, a, seeds) if a is not None else False for a in said]


def control_at(row: Dict[str, Any], undecided: int) -> int:
    """Where the control stands among a row's `undecided` attempts: fixed by the row id, so a rerun sends the same
    request."""
    return zlib.crc32(str(row.get(ROW_ID, "")).encode()) % (undecided + 1)


def shown(row: Dict[str, Any], said: List[Optional[str]], verdicts: List[Optional[bool]], language: str) -> List[str]:
    """What the agreement judge is shown: the attempts the rule cannot decide (a small judge says "true" to anything,
    so a verdict of the rule stands), with the control, a non-answer, among them; [] when the rule decides all."""
    undecided = [a for a, v in zip(said, verdicts) if a is not None and v is None]
    if not undecided:
        return []
    at = control_at(row, len(undecided))
    return undecided[:at] + [CONTROL_ANSWER[language]] + undecided[at:]


def with_judge(row: Dict[str, Any], verdicts: List[Optional[bool]], judged: List[bool]) -> Tuple[List[bool], bool]:
    """The verdicts once the judge has answered (`judged`: one per attempt shown, the control's included), and
    whether it called the control right: then it is not reading, and the attempts only it could decide count as
    unsolved."""
    judged = list(judged)
    control = judged.pop(control_at(row, len(judged) - 1))
    said = iter([False] * len(judged) if control else judged)
    return [bool(next(said)) if v is None else v for v in verdicts], bool(control)


def method(verdicts: List[Optional[bool]], said: List[Optional[str]], asked_judge: bool) -> str:
    """How the verdicts were reached: rule, judge or rule+judge."""
    if not asked_judge:
        return "rule"
    return "rule+judge" if any(v is not None for a, v in zip(said, verdicts) if a is not None) else "judge"


def count_control(notes: Dict[str, Any], outcome: str, model: str) -> str:
    """Count the control's outcome ("passed" or "failed") in the op's notes (the report shows them); warn at the
    first failure."""
    tally = notes.setdefault("agree_control", {"passed": 0, "failed": 0})
    if outcome == "failed" and not tally["failed"]:
        logger.warning(
            f"mindgym_self_consistency_filter: the agreement judge called a non-answer right ({model}); attempts "
            "only it could decide count as unsolved: use a stronger judge model"
        )
    tally[outcome] += 1
    return outcome


def empty_hint(dropped: Dict[str, int], model: str, low: float, high: float) -> str:
    """When the band kept no row: which side it missed on, and what moves it (a solver that can work the questions
    out, or questions that need more than a lookup)."""
    hard, easy = (dropped.get(f"mindgym_solve_rate_too_{side}", 0) for side in ("hard", "easy"))
    if not hard and not easy:
        return ""
    if hard >= easy:
        return (
            f": the solver ({model}) solved {hard} of them less often than min_solve_rate ({low:g}); a stronger "
            "solver model (backend api or vllm) keeps the questions it can work out"
        )
    return (
        f": the solver ({model}) solved {easy} of them more often than max_solve_rate ({high:g}); they need harder "
        "questions"
    )
