"""Pydantic models for everything an op asks a model for, plus the fixed vocabularies.

The JSON schema of each model drives guided decoding; replies are validated against it."""

import functools
from typing import Annotated, List, Literal, Tuple, Type

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from .rules.answers import MIN_STEPS, strip_answer_leak
from .rules.questions import offers_choice

CATEGORIES: Tuple[str, ...] = (
    "Mathematical Reasoning",
    "Scientific Knowledge",
    "Logical Deduction",
    "Technical Procedures",
    "Historical Events",
    "Ethical Considerations",
    "Economic Principles",
    "Psychological Insights",
)
TEXT_PRINCIPLES: Tuple[str, ...] = ("Bridging", "Comparison", "Temporal")
IMAGE_PRINCIPLES: Tuple[str, ...] = (
    "Visual-Textual Alignment",
    "Spatial Reasoning",
    "Causal Inference",
    "Contextual Synthesis",
)
LANGUAGES: Tuple[str, ...] = ("en", "zh")
ON_FAILURE: Tuple[str, ...] = ("drop", "flag")


def check_choice(field: str, value, allowed) -> None:
    """Config-time check with a one-line error naming the field and the allowed values."""
    if value not in allowed:
        raise ValueError(f"{field} must be one of {list(allowed)}, got {value!r}")


def check_choices(field: str, values, allowed) -> List[str]:
    if isinstance(values, str) or not values:
        raise ValueError(f"{field} must be a non-empty list drawn from {list(allowed)}, got {values!r}")
    for v in values:
        check_choice(field, v, allowed)
    return list(values)


class _Stripped(BaseModel):
    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, v):
        return v.strip() if isinstance(v, str) else v


class SeedQA(_Stripped):
    question: str = Field(min_length=5)
    answer: str = Field(min_length=1)


@functools.lru_cache(maxsize=None)
def seed_set_schema(principles: Tuple[str, ...], max_seeds: int) -> Type[BaseModel]:
    """Seeds linked by exactly one principle drawn from `principles` (an enum in the schema)."""
    return create_model(
        "SeedSet",
        __base__=_Stripped,
        relationship_category=(Literal[principles], ...),
        sub_questions=(List[SeedQA], Field(min_length=2, json_schema_extra={"maxItems": max_seeds})),
    )


class MultiHop(_Stripped):
    thinking: str = Field(min_length=MIN_STEPS, description="reasoning steps only, no final answer")
    multihop_question: str = Field(min_length=10)
    multihop_answer: str = Field(min_length=1)

    @model_validator(mode="after")
    def _no_answer_in_thinking(self):
        # the released data put the answer inside the thinking, so curriculum stage 1 leaked it
        self.thinking, leaked = strip_answer_leak(self.thinking, self.multihop_answer)
        if leaked:
            raise ValueError("thinking states the final answer; it must hold the reasoning only")
        self.multihop_question, leaked = strip_answer_leak(self.multihop_question, self.multihop_answer, inline=True)
        if (leaked and not offers_choice(self.multihop_question)) or len(self.multihop_question) < 10:
            raise ValueError("the question gives its own answer away")  # a choice names it among the options
        return self


class DepthBreadth(BaseModel):
    """The judge lists what a solver must do and know; depth and breadth are counted from the lists
    (a bare 1-5 from a small judge is 5 for everything)."""

    steps: List[Annotated[str, Field(max_length=160)]] = Field(min_length=1, json_schema_extra={"maxItems": 6})
    knowledge_areas: List[Annotated[str, Field(max_length=60)]] = Field(min_length=1, json_schema_extra={"maxItems": 5})

    @field_validator("steps", "knowledge_areas", mode="after")
    @classmethod
    def _non_blank(cls, v: List[str]) -> List[str]:
        v = [x.strip() for x in v if isinstance(x, str) and x.strip()]
        if not v:
            raise ValueError("list every item as a short non-empty string")
        return v

    @property
    def depth(self) -> int:
        return min(5, len(dict.fromkeys(s.lower() for s in self.steps)))

    @property
    def breadth(self) -> int:
        return min(5, len(dict.fromkeys(a.lower() for a in self.knowledge_areas)))


class Solution(_Stripped):
    """The solver works before it answers: under a JSON grammar there is no room to think outside the reply,
    so `reasoning` comes first (required in the schema sent to the model; a reply without it still parses)."""

    model_config = ConfigDict(json_schema_extra={"required": ["reasoning", "answer"]})
    reasoning: str = Field(default="", max_length=1500)
    answer: str = Field(min_length=1, max_length=2000)


@functools.lru_cache(maxsize=None)
def agreement_schema(n: int) -> Type[BaseModel]:
    """Exactly one verdict per attempt shown (a short array is a validation error, retried)."""
    return create_model(
        "AgreementVerdicts",
        verdicts=(List[bool], Field(min_length=n, max_length=n)),
    )


class PairwiseVerdict(_Stripped):
    winner: Literal["A", "B", "tie"]
    reason: str = Field(max_length=300)
