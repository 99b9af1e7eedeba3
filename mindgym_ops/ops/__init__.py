"""One op per file; the file name is the registered op name."""

from . import (  # noqa: F401
    mindgym_background_mapper,
    mindgym_curriculum_mapper,
    mindgym_depth_breadth_filter,
    mindgym_multihop_qa_mapper,
    mindgym_seed_qa_mapper,
    mindgym_self_consistency_filter,
)
