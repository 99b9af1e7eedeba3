"""The from-scratch formatter: numbered, string-typed rows on either executor; bad config fails at once."""

import pytest

from mindgym_ops.formatters import MindgymScratchFormatter


def test_default_executor_rows_are_numbered_and_typed():
    ds = MindgymScratchFormatter(length=3, feature_keys=["text", "query"]).load_dataset()
    assert ds["mindgym_row_id"] == ["r0", "r1", "r2"]
    assert ds["text"] == [None, None, None]
    assert {k: str(v.dtype) for k, v in ds.features.items()} == {
        "mindgym_row_id": "string",
        "text": "string",
        "query": "string",
    }


@pytest.mark.parametrize(
    "kwargs, field",
    [({"length": 0}, "length"), ({"length": "8"}, "length"), ({"length": 2, "executor": "spark"}, "executor")],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=f"generated_dataset_config.{field} must be"):
        MindgymScratchFormatter(**kwargs)
