import json
import logging

import pytest
from helpers import SECRET
from mindgym_script import MindGymScript

from mindgym_ops.llm import LLM, ErrorKind
from mindgym_ops.schemas import DepthBreadth
from mindgym_ops.testing.server import FakeOpenAIServer

JUDGE = [{"role": "user", "content": 'Rate it. Reply with JSON only: {"depth": <1-5>, ...}'}]


def llm_for(srv, **params):
    return LLM(backend="api", model="fake", model_params={"base_url": srv.base_url, "backoff_base": 0.01, **params})


def test_concurrency_cap_is_respected_and_reached():
    with FakeOpenAIServer(MindGymScript(), latency=0.1) as srv:
        res = llm_for(srv, max_concurrency=8).chat_batch([JUDGE] * 40, schema=DepthBreadth, keys=list("x" * 40))
        assert all(r.ok for r in res)
        assert srv.stats.max_in_flight == 8
        assert srv.stats.requests == 40


def test_429_with_retry_after_then_success():
    with FakeOpenAIServer(MindGymScript(), faults={"429": 1.0}, retry_after=0.2) as srv:
        llm = llm_for(srv, max_retries=2)
        res = llm.chat_batch([JUDGE], schema=DepthBreadth)[0]
        assert not res.ok and res.error.kind == ErrorKind.TRANSPORT
        assert srv.stats.by_status[429] == 3  # 1 try + 2 retries, then a typed error
        srv.faults.clear()
        assert llm.chat_batch([JUDGE], schema=DepthBreadth)[0].ok


def test_retry_after_is_honoured():
    import time

    with FakeOpenAIServer(MindGymScript(), faults={"429": 1.0}, retry_after=0.5) as srv:
        t = time.time()
        llm_for(srv, max_retries=1).chat_batch([JUDGE], schema=DepthBreadth)
        assert time.time() - t >= 0.5


@pytest.mark.parametrize("fault", ["500", "503", "drop", "malformed_json"])
def test_transient_faults_are_retried_and_bounded(fault):
    with FakeOpenAIServer(MindGymScript(), faults={fault: 1.0}) as srv:
        res = llm_for(srv, max_retries=3).chat_batch([JUDGE], schema=DepthBreadth)[0]
        assert res.error.kind == ErrorKind.TRANSPORT
        assert srv.stats.requests == 4


def test_hung_request_times_out():
    with FakeOpenAIServer(MindGymScript(), faults={"hang": 1.0}, hang_seconds=5) as srv:
        res = llm_for(srv, max_retries=0, timeout=0.5).chat_batch([JUDGE], schema=DepthBreadth)[0]
        assert res.error.kind == ErrorKind.TRANSPORT
        assert "Timeout" in res.error.message


def test_empty_choices_and_truncation_are_parse_retried():
    with FakeOpenAIServer(MindGymScript(), faults={"empty_choices": 1.0}) as srv:
        res = llm_for(srv).chat_batch([JUDGE], schema=DepthBreadth, try_num=3)[0]
        assert res.error.kind == ErrorKind.EMPTY and res.attempts == 3 and srv.stats.requests == 3
    with FakeOpenAIServer(MindGymScript(), faults={"truncate": 1.0}) as srv:
        res = llm_for(srv).chat_batch([JUDGE], schema=DepthBreadth, try_num=2)[0]
        assert res.error.kind == ErrorKind.TRUNCATED and res.attempts == 2


def test_parse_retries_stop_at_first_valid_reply():
    script = MindGymScript()
    replies = iter(["not json", '{"depth": 7}', None])

    def judge(body):
        r = next(replies)
        return r if r is not None else json.dumps({"steps": ["a", "b", "c"], "knowledge_areas": ["x", "y"]})

    script.overrides["judge"] = judge
    with FakeOpenAIServer(script) as srv:
        res = llm_for(srv).chat_batch([JUDGE], schema=DepthBreadth, try_num=5)[0]
        assert res.ok and res.attempts == 3 and srv.stats.requests == 3
        assert res.usage.prompt_tokens > 0 and res.usage.completion_tokens > 0


def test_structured_output_falls_back_from_json_schema():
    with FakeOpenAIServer(MindGymScript(), reject_json_schema=True) as srv:
        llm = llm_for(srv)
        assert llm.chat_batch([JUDGE], schema=DepthBreadth)[0].ok
        assert llm.backend.structured_mode == "json_object"
        assert srv.stats.bodies[-1]["response_format"]["type"] == "json_object"
        assert "schema" in srv.stats.bodies[-1]["response_format"]


def test_a_refused_structured_mode_is_learned_once_per_process():
    """llama.cpp's server refuses json_schema with HTTP 500: one probe pays for it, not every request in
    flight, and a second LLM (another op) on the same server starts from what the first learned."""
    with FakeOpenAIServer(MindGymScript(), reject_json_schema=True, latency=0.05) as srv:
        first, second = llm_for(srv, max_concurrency=8), llm_for(srv, max_concurrency=8)
        for llm, tag in ((first, "a"), (second, "b")):
            keys = [f"{tag}{i}" for i in range(16)]
            assert all(r.ok for r in llm.chat_batch([JUDGE] * 16, schema=DepthBreadth, keys=keys))
        refused = sum(b["response_format"]["type"] == "json_schema" for b in srv.stats.bodies)
        assert refused == 1 and srv.stats.by_status[500] == 1
        assert srv.stats.requests == 33 and srv.stats.max_in_flight > 1  # after the probe, concurrency is back


def test_json_schema_is_sent_when_accepted(server):
    llm_for(server).chat_batch([JUDGE], schema=DepthBreadth)
    rf = server.stats.bodies[-1]["response_format"]
    assert rf["type"] == "json_schema" and rf["json_schema"]["schema"]["properties"]["steps"]["maxItems"] == 6


def test_env_overrides_backend_and_model(monkeypatch, server):
    monkeypatch.setenv("MINDGYM_BACKEND", "api")
    monkeypatch.setenv("MINDGYM_MODEL", "override-model")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    llm = LLM(backend="local", model="qwen2.5-0.5b")
    assert (llm.backend_name, llm.model) == ("api", "override-model")
    llm.chat_batch([JUDGE], schema=DepthBreadth)
    assert server.stats.bodies[-1]["model"] == "override-model"


def test_bad_backend_and_try_num_fail_at_config_time():
    with pytest.raises(ValueError, match=r"backend must be one of \['api', 'vllm', 'hf', 'local'\]"):
        LLM(backend="openai")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="try_num must be an integer >= 1"):
            LLM(backend="local", try_num=bad)


def test_api_key_never_reaches_logs(server, monkeypatch, caplog):
    from loguru import logger

    lines = []
    sink = logger.add(lines.append, level="DEBUG")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    try:
        with caplog.at_level(logging.DEBUG):
            with FakeOpenAIServer(MindGymScript(), reject_json_schema=True, faults={"500": 0.5}) as srv:
                llm = llm_for(srv)
                llm.chat_batch([JUDGE] * 4, schema=DepthBreadth, keys=["a", "b", "c", "d"])
                assert SECRET not in json.dumps(llm.describe())
    finally:
        logger.remove(sink)
    text = "".join(map(str, lines)) + caplog.text
    assert text  # something was logged (the fallback line at least)
    assert SECRET not in text


def always_refused(srv, try_num):
    """One judge request whose every parsed reply is refused on substance, with feedback."""
    return llm_for(srv).chat_batch(
        [JUDGE],
        schema=DepthBreadth,
        try_num=try_num,
        check=lambda i, parsed: ("shallow", "too few steps"),
        feedback=lambda reason: f"Refused: {reason}.",
    )[0]


def test_a_reply_that_echoes_a_refused_one_is_retried_from_the_original_prompt():
    """The 0.5B model answers a feedback turn by repeating its refused reply word for word; the next
    attempt is then a fresh sample of the original conversation, not a longer copy of the echo."""
    script = MindGymScript()
    same = json.dumps({"steps": ["a", "b"], "knowledge_areas": ["x"]})
    script.overrides["judge"] = lambda body: same
    with FakeOpenAIServer(script) as srv:
        res = always_refused(srv, 4)
        assert not res.ok and res.error.reason == "shallow" and res.attempts == 4
        turns = [len(b["messages"]) for b in srv.stats.bodies]
        # 1: the prompt; 2: + the refused reply and the feedback; 2 echoed it -> 3 is the prompt alone, and so
        # is 4, whose reply was again a copy of the refused one
        assert turns == [1, 3, 1, 1]
        assert srv.stats.bodies[1]["messages"][2]["content"] == "Refused: too few steps."


def test_once_a_conversation_echoed_feedback_every_later_attempt_is_a_fresh_sample():
    """The real 0.5B pattern: a fresh sample differs from the refused reply, but the feedback turn after it
    is echoed again. After the first echo no attempt is spent on a feedback turn."""
    script = MindGymScript()
    fresh = iter(range(100))

    def judge(body):
        msgs = body["messages"]
        if len(msgs) > 1:  # a feedback turn: echo the refused reply
            return msgs[-2]["content"]
        n = next(fresh)  # samples far apart: no sample is a near copy of another
        return json.dumps({"steps": [f"{n} " + "abcdefghij"[n] * 40], "knowledge_areas": ["x"]})

    script.overrides["judge"] = judge
    with FakeOpenAIServer(script) as srv:
        res = always_refused(srv, 5)
        assert not res.ok and res.attempts == 5
        # 1: prompt; 2: feedback, echoed; 3, 4 and 5: the prompt alone, three different samples
        assert [len(b["messages"]) for b in srv.stats.bodies] == [1, 3, 1, 1, 1]


def test_a_retry_of_a_greedy_request_samples():
    """A judge asks at temperature 0; its retry from the original prompt would repeat the refused reply word
    for word (seen: the 0.5B judge listed ["102 years"] three times), so a retry samples."""
    script = MindGymScript()
    script.overrides["judge"] = lambda body: "not json"
    with FakeOpenAIServer(script) as srv:
        res = llm_for(srv).chat_batch([JUDGE], sampling={"temperature": 0.0}, schema=DepthBreadth, try_num=3)[0]
        assert not res.ok and res.attempts == 3
        assert [b["temperature"] for b in srv.stats.bodies] == [0.0, 0.7, 0.7]


def test_a_near_copy_of_a_refused_reply_counts_as_an_echo():
    from mindgym_ops.llm.client import echoes

    refused = '{"sub_questions":[{"question":"Whendidthedeltastartin1970?","answer":"1970"}]}'
    assert echoes(refused.replace("When", "What year"), refused)
    assert not echoes('{"sub_questions":[{"question":"Wholedthecouncil?","answer":"IdaVoss"}]}', refused)
