import json

from mindgym_script import user_text
from mindgym_train.winrate import win_rate

from mindgym_ops.llm import LLM


def test_win_rate_counts_wins_ties_losses_with_order_swaps(api_env, script):
    # question 0: tuned better in both orders -> win; 1: base better both ways -> loss;
    # 2: position bias (always "A") -> tie; 3: judge says tie -> tie
    def judge(body):
        text = user_text(body)
        a = text.split('<answer id="A">')[1].split("</answer>")[0]
        if "Q2" in text:
            return json.dumps({"winner": "A", "reason": "first is better"})
        if "Q3" in text:
            return json.dumps({"winner": "tie", "reason": "same"})
        tuned_in_a = "TUNED" in a
        good = "TUNED" if "Q0" in text else "BASE"
        return json.dumps({"winner": "A" if (good == "TUNED") == tuned_in_a else "B", "reason": f"{good} deeper"})

    script.overrides["pairwise"] = judge
    llm = LLM(backend="api", model="judge")
    out = win_rate(
        llm,
        [f"Q{i}?" for i in range(4)],
        [f"BASE answer {i}" for i in range(4)],
        [f"TUNED answer {i}" for i in range(4)],
    )
    for dim in ("depth", "breadth"):
        s = out["summary"][dim]
        assert (s["win"], s["tie"], s["loss"]) == (1, 2, 1)
        assert s["win_rate"] == 0.25 and s["win_rate_ties_half"] == 0.5
    assert api_env.stats.requests == 4 * 2 * 2  # every question, both dimensions, both orders
    rec = next(r for r in out["records"] if r["question"] == 0 and r["dimension"] == "depth")
    assert rec["outcome"] == "win" and rec["tuned_first"]["reason"] == "TUNED deeper"
