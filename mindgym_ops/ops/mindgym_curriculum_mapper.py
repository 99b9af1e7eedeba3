from typing import Dict, Optional

from data_juicer.ops.base_op import OPERATORS, Mapper

from ..prompts import load_templates
from ..schemas import LANGUAGES, check_choice
from ..text import hash_index
from .rows import ROW_ID, columns_to_rows, row_number, rows_to_columns
from .tracing import RowTracing
from .wording import CURRICULUM_LABELS

OP_NAME = "mindgym_curriculum_mapper"
SPLITS = ("round_robin", "all")
STAGES = (1, 2, 3, 4)


@OPERATORS.register_module(OP_NAME)
class MindgymCurriculumMapper(RowTracing, Mapper):
    """Turns each record into rows for the four thinking-curriculum stages, in ms-swift `messages` form.

    Stages: (1) question + thinking -> answer, (2) question + answer -> thinking, (3) question ->
    answer + thinking, (4) question -> answer. Reads `multihop_question`, `multihop_answer`,
    `thinking` and `images` (image records get an `<image>` tag per image). Writes `messages`
    (a JSON-compatible list of {role, content}), `curriculum_stage` (1-4) and keeps `images`.
    `split: round_robin` gives each record one stage (disjoint quarters, as in the paper);
    `all` puts every record in every stage. Records missing a question, answer or thinking are dropped."""

    _batched_op = True

    def __init__(
        self,
        split: str = "round_robin",
        language: Optional[str] = None,
        prompt_templates: Optional[Dict[str, str]] = None,
        *args,
        **kwargs,
    ):
        """
        Initialization method.

        :param split: round_robin (each record in one stage) or all (every record in every stage).
        :param language: en or zh instructions; default: each row's `language` field, else en.
        :param prompt_templates: overrides by name (curriculum_stage1 .. curriculum_stage4).
        """
        super().__init__(*args, **kwargs)
        check_choice("split", split, SPLITS)
        if language is not None:
            check_choice("language", language, LANGUAGES)
        self.split = split
        self.language = language
        names = {f"curriculum_stage{k}": ("question", "answer", "thinking") for k in STAGES}
        self.templates = {lang: load_templates(lang, names, prompt_templates) for lang in LANGUAGES}

    def _stages(self, row: Dict, pos: int):
        if self.split == "all":
            return STAGES
        rid = str(row.get(ROW_ID) or "")
        index = row_number(rid)
        index = hash_index(rid or str(pos)) if index is None else index
        return (STAGES[index % 4],)

    def messages(self, row: Dict, stage: int, language: str):
        q, a, t = row["multihop_question"], row["multihop_answer"], row["thinking"]
        user = self.templates[language][f"curriculum_stage{stage}"].render(question=q, answer=a, thinking=t)
        images = row.get(self.image_key) or []
        if images:
            user = "<image>" * len(images) + "\n" + user
        label = CURRICULUM_LABELS[language]
        target = {
            1: label["answer"] + a,
            2: label["thinking"] + t,
            3: label["answer"] + a + "\n\n" + label["thinking"] + t,
            4: label["answer"] + a,
        }[stage]
        return [{"role": "user", "content": user}, {"role": "assistant", "content": target}]

    def process_batched(self, samples, rank=None):
        rows = columns_to_rows(samples)
        keys = list(dict.fromkeys(list(samples.keys()) + ["messages", "curriculum_stage", self.image_key]))
        out, keep = [], []
        for pos, row in enumerate(rows):
            keep.append(
                all(
                    isinstance(row.get(k), str) and row[k].strip()
                    for k in ("multihop_question", "multihop_answer", "thinking")
                )
            )
            if not keep[-1]:
                if self.tracing:
                    self.mark_dropped(row, "curriculum_incomplete")
                continue
            language = self.language or (row.get("language") if row.get("language") in LANGUAGES else "en")
            for stage in self._stages(row, pos):
                new = dict(row)
                new["messages"] = self.messages(row, stage, language)
                new["curriculum_stage"] = stage
                new[self.image_key] = list(row.get(self.image_key) or [])
                out.append(new)
        if self.tracing:  # the stage rows keep their record's text: only the dropped records are traced
            self.trace(rows, keep)
        return rows_to_columns(out, keys)
