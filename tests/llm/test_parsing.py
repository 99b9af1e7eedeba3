import pytest

from mindgym_ops.llm import ErrorKind, LLMError, extract_json, parse_reply
from mindgym_ops.schemas import TEXT_PRINCIPLES, DepthBreadth, MultiHop, seed_set_schema

GOOD = '{"steps": ["s1", "s2", "s3", "s4"], "knowledge_areas": ["a1", "a2"]}'


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        "```json\n" + GOOD + "\n```",
        "Sure! Here is my rating:\n" + GOOD + "\nHope this helps.",
        "```\n" + GOOD + "\n```",
        "prefix {not json} then " + GOOD,
    ],
)
def test_tolerant_extraction_finds_the_object(text):
    parsed, err = parse_reply(text, DepthBreadth)
    assert err is None
    assert (parsed.depth, parsed.breadth) == (4, 2)


def assert_error(err, kind: ErrorKind, fragment: str) -> None:
    assert isinstance(err, LLMError), err
    assert err.kind == kind, err
    assert fragment in err.message, err.message


@pytest.mark.parametrize(
    "text,finish,kind,fragment",
    [
        ("", "stop", ErrorKind.EMPTY, "empty reply"),
        (None, "stop", ErrorKind.EMPTY, "empty reply"),
        ("I cannot rate this.", "stop", ErrorKind.PARSE, "no JSON object in reply: 'I cannot rate this.'"),
        ('{"steps": ["s1", "s2"], "knowledge_a', "length", ErrorKind.TRUNCATED, "reply cut at max_tokens (no JSON"),
        (
            '{"steps": "many", "knowledge_areas": ["a"]}',
            "stop",
            ErrorKind.VALIDATION,
            "steps: Input should be a valid list",
        ),
        ('{"steps": [], "knowledge_areas": ["a"]}', "stop", ErrorKind.VALIDATION, "steps: List should have at least 1"),
        ('{"steps": ["  "], "knowledge_areas": ["a"]}', "stop", ErrorKind.VALIDATION, "steps: Value error, list every"),
        ('{"steps": ["s1"]}', "stop", ErrorKind.VALIDATION, "knowledge_areas: Field required"),
        ("[1, 2, 3]", "stop", ErrorKind.PARSE, "no JSON object in reply: '[1, 2, 3]'"),
    ],
)
def test_bad_replies_become_typed_errors(text, finish, kind, fragment):
    parsed, err = parse_reply(text, DepthBreadth, finish)
    assert parsed is None
    assert_error(err, kind, fragment)


@pytest.mark.parametrize(
    "text,kind,fragment",
    [
        ("no braces here", ErrorKind.PARSE, "no JSON object in reply: 'no braces here'"),
        ("  \n", ErrorKind.EMPTY, "empty reply"),
        ('["a list", "not an object"]', ErrorKind.PARSE, "no JSON object in reply"),
    ],
)
def test_extract_json_rejects_replies_without_an_object(text, kind, fragment):
    with pytest.raises(LLMError) as caught:
        extract_json(text)
    assert_error(caught.value, kind, fragment)


def test_seed_schema_enforces_allowed_principles():
    schema = seed_set_schema(TEXT_PRINCIPLES, 5)
    ok = (
        '{"relationship_category": "Comparison", "sub_questions": '
        '[{"question": "Who is A?", "answer": "x"}, {"question": "Who is B?", "answer": "y"}]}'
    )
    assert parse_reply(ok, schema)[1] is None
    bad = ok.replace("Comparison", "Causal Inference")
    assert_error(parse_reply(bad, schema)[1], ErrorKind.VALIDATION, "relationship_category: Input should be 'Bridging'")
    one = '{"relationship_category": "Temporal", "sub_questions": [{"question": "When was it?", "answer": "1900"}]}'
    assert_error(parse_reply(one, schema)[1], ErrorKind.VALIDATION, "sub_questions: List should have at least 2 items")
    assert schema.model_json_schema()["properties"]["relationship_category"]["enum"] == list(TEXT_PRINCIPLES)


def test_multihop_thinking_must_not_state_the_answer():
    answer = "The council hears of it on the following Thursday afternoon"
    leak = {
        "thinking": "Step one, step two. " + answer + ".",
        "multihop_question": "When does the council hear?",
        "multihop_answer": answer,
    }
    import json

    assert_error(parse_reply(json.dumps(leak), MultiHop)[1], ErrorKind.VALIDATION, "thinking states the final answer")
    trailing = dict(leak, thinking="Find who measured, relate the days, apply the rule.\nFinal answer: Thursday")
    parsed, err = parse_reply(json.dumps(trailing), MultiHop)
    assert err is None
    assert "Final answer" not in parsed.thinking and parsed.thinking.startswith("Find who measured")
    # seen on the 0.5B model: steps, then a closing sentence that states the answer; the steps are kept
    steps = "Find when the ecosystem started, 1759, and when it ended, 1861, then compare the two years."
    closing = dict(leak, thinking=steps + " Therefore, " + answer[0].lower() + answer[1:] + ".")
    parsed, err = parse_reply(json.dumps(closing), MultiHop)
    assert err is None and parsed.thinking == steps
    # the answer also stated before the closing sentence: still refused
    twice = dict(leak, thinking=answer + ", as the steps show. So " + answer + ".")
    assert_error(parse_reply(json.dumps(twice), MultiHop)[1], ErrorKind.VALIDATION, "thinking states the final answer")


def test_schemas_sent_to_grammar_engines_carry_no_long_string_limits():
    from mindgym_ops.llm.client import GRAMMAR_MAX_LENGTH, grammar_safe
    from mindgym_ops.schemas import MultiHop, Solution

    def limits(node):
        if isinstance(node, dict):
            return [v for k, v in node.items() if k in ("minLength", "maxLength")] + sum(map(limits, node.values()), [])
        return sum(map(limits, node), []) if isinstance(node, list) else []

    for model in (DepthBreadth, Solution, MultiHop, seed_set_schema(TEXT_PRINCIPLES, 5)):
        assert all(v <= GRAMMAR_MAX_LENGTH for v in limits(grammar_safe(model.model_json_schema())))
    assert 2000 in limits(Solution.model_json_schema())  # pydantic still validates the reply
    assert 160 in limits(grammar_safe(DepthBreadth.model_json_schema()))  # short list items stay bounded


def test_multihop_question_must_not_carry_its_answer():
    import json

    reply = {
        "thinking": "Relate the deltas by pollution, then compare the figures.",
        "multihop_question": "Which river delta has the highest pollution level? A: The Delta of the North",
        "multihop_answer": "The Delta of the North, with the highest measured pollution",
    }
    parsed, err = parse_reply(json.dumps(reply), MultiHop)
    assert err is None and parsed.multihop_question == "Which river delta has the highest pollution level?"
    reply["multihop_question"] = "Given The Delta of the North, with the highest measured pollution, which is worst?"
    assert_error(parse_reply(json.dumps(reply), MultiHop)[1], ErrorKind.VALIDATION, "gives its own answer away")
