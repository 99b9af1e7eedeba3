"""Deterministic, valid replies for every MindGYM step, for the loopback server
(`mindgym_ops.testing.server.FakeOpenAIServer`).

A request is routed on the name of the response schema the api backend sends with it (the
`json_schema.name` in json_schema mode, the schema's `title` in json_object mode), never on prompt
wording: rewording a template does not change which reply a step gets, and a retry that carries
fed-back reasons carries the same schema, so it routes like the first try.

A request with no schema is told apart by who sent it, not by what it says. Our LLM layer tags every
request with an X-MindGYM-Request id (the server hands it over as `_request_id`); its one plain-text
step is the background writer, so such a request is "background". Any other client (Data-Juicer's
own llm_*_filter ops in the benchmarks) is "foreign" and gets a Data-Juicer analysis record. So the
script needs a structured mode (json_schema, the default, or json_object): with
`structured_output: text` no schema is sent and every step would read as "background". A body taken
from `stats.bodies` has no `_request_id`, so there only the schema routes.

Reply content still quotes the prompt where tests trace rows through the steps: the seeds carry the
row's source (its image question, or its document's first line) in brackets, and the agreement judge
marks the numbered candidates that name Thursday.

    python tests/mindgym_script.py --latency 0.2 --solve-every 2   # served in its own process"""

import json
import re
import zlib
from collections import Counter
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from pydantic import BaseModel

from mindgym_ops.schemas import (
    TEXT_PRINCIPLES,
    DepthBreadth,
    MultiHop,
    PairwiseVerdict,
    Solution,
    agreement_schema,
    seed_set_schema,
)
from mindgym_ops.testing.server import arg_parser, message_text, serve


def _title(model: Type[BaseModel]) -> str:
    """The name the api backend sends for a schema (its JSON schema's title)."""
    return model.model_json_schema().get("title", model.__name__)


# schema name -> step; the names of the seed and agreement schemas do not depend on their arguments
KINDS: Dict[str, str] = {
    _title(seed_set_schema(TEXT_PRINCIPLES, 3)): "seed_qa",
    _title(MultiHop): "multihop",
    _title(DepthBreadth): "judge",
    _title(Solution): "solve",
    _title(agreement_schema(1)): "agree",
    _title(PairwiseVerdict): "pairwise",
}


def response_schema(body: Dict) -> Tuple[str, Dict[str, Any]]:
    """(name, JSON schema) of the reply format a request asks for; ("", {}) for plain text."""
    rf = body.get("response_format") or {}
    if rf.get("type") == "json_schema":
        spec = rf.get("json_schema") or {}
        schema = spec.get("schema") or {}
        return spec.get("name") or schema.get("title", ""), schema
    schema = rf.get("schema") or {}
    return schema.get("title", ""), schema


def request_kind(body: Dict) -> str:
    """Which MindGYM step a request is, from the name of its response schema (see the module note)."""
    name, _ = response_schema(body)
    if name:
        return KINDS.get(name, "other")
    return "background" if body.get("_request_id") else "foreign"


def prompt_text(body: Dict) -> str:
    return "\n".join(message_text(m) for m in body.get("messages", []))


def user_text(body: Dict) -> str:
    msgs = [m for m in body.get("messages", []) if m.get("role") == "user"]
    return prompt_text({"messages": msgs[-1:]})


def judge_says(*verdicts: bool) -> Callable[[Dict], str]:
    """An agreement judge's reply: `verdicts` in order for the attempts it is shown, False for the control
    (the non-answer the filter shows among them)."""
    from mindgym_ops.ops.wording import CONTROL_ANSWER

    def reply(body: Dict) -> str:
        shown = [ln.split(". ", 1)[-1] for ln in user_text(body).splitlines() if ln[:1].isdigit()]
        said = iter(verdicts)
        return json.dumps({"verdicts": [False if a in CONTROL_ANSWER.values() else next(said) for a in shown]})

    return reply


def _property(schema: Dict[str, Any], name: str) -> Dict[str, Any]:
    return (schema.get("properties") or {}).get(name) or {}


def _word(n: int) -> str:
    """A distinct letters-only name per number (dedup that ignores digits still sees them apart)."""
    letters = ""
    n += 26 * 27
    while n:
        n, r = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
    return letters.capitalize()


class MindGymScript:
    """Deterministic, valid replies for every MindGYM step; tests override single kinds with
    `script.overrides[kind] = fn(body) -> str` and read `script.seen[kind]`."""

    def __init__(self, depth: int = 4, breadth: int = 3, solve_every: int = 1):
        self.depth, self.breadth = depth, breadth
        self.solve_every = solve_every  # the solver is right on every n-th attempt at a question
        self._attempts: Counter = Counter()
        self.overrides: Dict[str, Callable[[Dict], str]] = {}
        self.seen: Counter = Counter()

    def __call__(self, body: Dict) -> str:
        kind = request_kind(body)
        self.seen[kind] += 1
        if kind in self.overrides:
            return self.overrides[kind](body)
        return getattr(self, f"_{kind}", self._other)(body)

    @staticmethod
    def _h(body: Dict) -> int:
        seed = json.dumps([body.get("messages"), body.get("_request_id", "")], sort_keys=True)
        return zlib.crc32(seed.encode()) % 1_000_003

    def _background(self, body):
        text = user_text(body)
        area = (
            text.split("\u201c")[1].split("\u201d")[0]
            if "\u201c" in text
            else (text.split('"')[1] if '"' in text else "general")
        )
        n = self._h(body)
        doc = (
            f"In the year {1800 + n % 200}, the town of Vell{n % 97} kept records on {area}. "
            f"Engineer Mara Quist measured {n % 50 + 10} units on Monday and twice that on Friday. "
            "Her colleague Tomas Reyd arrived two years later and compared both figures with the "
            "archive, which listed a rule: every doubling must be reported to the council within "
            "three days. The council met only on Thursdays, so reports reached it late. "
        ) * 2
        return doc.strip()

    @staticmethod
    def _snippet(text: str) -> str:
        """What identifies the source row: its original question (image rows) or document start."""
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if line.startswith(("Question: ", "问题：")):
                return line.split(" ", 1)[-1].split("：", 1)[-1][:40]
            if line.strip() in ("<document>",) and i + 1 < len(lines):
                return lines[i + 1][:40]
        return ""

    @staticmethod
    def _grounded(text: str, answers: List[str], about: str) -> List[str]:
        """The scripted answers where the document holds them (the scripted background does); for a corpus
        document, distinct words of that document outside the row's snippet (a seed question carries the
        snippet and must not contain its own answer), so the seeds pass the grounding check."""
        if "<document>\n" not in text:
            return answers
        doc = text.split("<document>\n", 1)[1].split("</document>", 1)[0]
        if not doc.strip() or "Mara Quist" in doc:
            return answers
        words = list(dict.fromkeys(w for w in re.findall(r"[^\W\d_]{4,}|\d+", doc) if w.lower() not in about.lower()))
        return [words[i] if i < len(words) else a for i, a in enumerate(answers)]

    def _seed_qa(self, body):
        text = user_text(body)
        about = self._snippet(text)
        principle = _property(response_schema(body)[1], "relationship_category")
        allowed: List[str] = principle.get("enum") or ([principle["const"]] if "const" in principle else ["Bridging"])
        answers = self._grounded(text, ["Mara Quist", "twice as many", "Thursday"], about)
        return json.dumps(
            {
                "relationship_category": allowed[self._h(body) % len(allowed)],
                "sub_questions": [
                    {"question": f"Who measured the units on Monday [{about}]?", "answer": answers[0]},
                    {"question": "How many units were measured on Friday relative to Monday?", "answer": answers[1]},
                    {"question": "On which day did the council meet?", "answer": answers[2]},
                ],
            }
        )

    def _multihop(self, body):
        n = self._h(body)
        text = user_text(body)
        about = text.split("[", 1)[1].split("]", 1)[0] if "[" in text and "]" in text else ""
        return json.dumps(
            {
                "thinking": "First identify who measured on Monday, then relate Friday's figure to Monday's, "
                "then apply the reporting rule to the council's meeting day.",
                "multihop_question": f"[{about}] The person who measured on Monday in {_word(n)} doubled the "
                "figure by Friday; "
                "given the three-day reporting rule and the council's meeting day, when does the council "
                "first hear of it?",
                "multihop_answer": "The following Thursday, because the report is due within three days of Friday "
                "and the council meets only on Thursdays.",
            }
        )

    def _judge(self, body):
        return json.dumps(
            {
                "steps": [f"step {i + 1}" for i in range(self.depth)],
                "knowledge_areas": ["dates", "quantities", "rules", "people", "places"][: self.breadth],
            }
        )

    def _solve(self, body):
        q = user_text(body)
        self._attempts[q] += 1
        right = self._attempts[q] % self.solve_every == 0
        return json.dumps({"answer": "The following Thursday" if right else "Monday"})

    def _agree(self, body):
        # the schema says how many verdicts; a candidate naming Thursday agrees with the reference
        verdicts = ["Thursday" in ln for ln in user_text(body).splitlines() if ln[:1].isdigit()]
        n = _property(response_schema(body)[1], "verdicts").get("minItems") or len(verdicts) or 1
        return json.dumps({"verdicts": (verdicts + [True] * n)[:n]})

    def _foreign(self, body):
        """Another client's plain-text request: a Data-Juicer llm_*_filter analysis record."""
        dims = (
            "linguistic_complexity",
            "conceptual_depth",
            "prior_knowledge",
            "step_complexity",
            "ambiguity",
            "clarity",
            "relevance",
            "usefulness",
            "fluency",
            "accuracy",
            "grammar",
            "informativeness",
            "coherence",
        )
        return json.dumps({"dimension_scores": {d: 3 for d in dims}, "tags": {}, "flags": [], "rationale": "scripted"})

    def _pairwise(self, body):
        return json.dumps({"winner": "A", "reason": "more steps"})

    def _other(self, body):
        return "ok"


def main(argv: Optional[List[str]] = None) -> None:
    """Serve this script in its own process (benchmarks measure the client, not a server sharing its
    interpreter): prints the base URL, then serves until killed."""
    ap = arg_parser()
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--breadth", type=int, default=3)
    ap.add_argument("--solve-every", type=int, default=1, help="the solver is right on every n-th attempt")
    a = ap.parse_args(argv)
    serve(MindGymScript(a.depth, a.breadth, a.solve_every), a)


if __name__ == "__main__":
    main()
