import pytest
from catalogue import CASES, run_case


@pytest.mark.parametrize("name,expected,runner", CASES, ids=[c[0] for c in CASES])
def test_bad_input_case(name, expected, runner, tmp_path):
    observed = run_case(runner, tmp_path)
    assert expected in observed
    assert "\n" not in observed  # one line
