"""A from-scratch dataset that runs on both executors: `generated_dataset_config: {type: MindgymScratchFormatter}`.

Data-Juicer's `EmptyFormatter` returns an in-memory dataset the Ray executor cannot use, and its
`RayEmptyFormatter` a bare Ray dataset of untyped columns. This one numbers its rows
(`mindgym_row_id` = r0, r1, ...) so round-robin reasoning areas and request-cache keys are the same
whichever executor runs the recipe, and types every column as a string."""

import re
from typing import List, Optional, Union

from data_juicer.format.formatter import FORMATTERS, BaseFormatter

from .ops.rows import ROW_ID, numbered_row_id, ray_running

EXECUTORS = ("auto", "default", "ray")
_DIGITS = re.compile(r"\s*[0-9]+\s*")


def positive_int(name: str, value: Union[int, str]) -> int:
    """An integer >= 1; its decimal string too, since Data-Juicer passes nested command-line overrides as strings."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"generated_dataset_config.{name} must be a positive integer, got {value!r}")
    return value


@FORMATTERS.register_module()
class MindgymScratchFormatter(BaseFormatter):
    """`length` numbered rows; each of `feature_keys` is a string column of nulls for the ops to fill."""

    SUFFIXES: List[str] = []

    def __init__(
        self, length: Union[int, str], feature_keys: Optional[List[str]] = None, executor: str = "auto", **kwargs
    ):
        self.length = positive_int("length", length)
        if executor not in EXECUTORS:
            raise ValueError(f"generated_dataset_config.executor must be one of {list(EXECUTORS)}, got {executor!r}")
        keys = [feature_keys] if isinstance(feature_keys, str) else list(feature_keys or ["text"])
        self.feature_keys = [k for k in dict.fromkeys(keys) if k != ROW_ID]
        self.executor = executor

    def table(self):
        import pyarrow as pa

        columns = {ROW_ID: pa.array([numbered_row_id(i) for i in range(self.length)], pa.string())}
        for key in self.feature_keys:
            columns[key] = pa.nulls(self.length, pa.string())
        return pa.table(columns)

    def load_dataset(self, *args, **kwargs):
        use_ray = self.executor == "ray" or (self.executor == "auto" and ray_running())
        if use_ray:
            import ray
            from data_juicer.core.data.ray_dataset import RayDataset

            return RayDataset(ray.data.from_arrow(self.table()))
        from data_juicer.core.data import NestedDataset
        from datasets import Dataset

        return NestedDataset(Dataset(self.table()))
