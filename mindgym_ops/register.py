"""Registers the pack with Data-Juicer: its six ops and its from-scratch dataset formatter.

Data-Juicer imports this module through the pack's `data_juicer.ops` entry point, so an installed pack needs no
recipe key. Without installing the pack, name this file in a recipe: `custom_operator_paths:
[/path/to/mindgym-ops/mindgym_ops/register.py]`. Importing `mindgym_ops` itself registers nothing, so the model
layer and the rules load without Data-Juicer."""

import os
import sys

if not __package__:  # loaded by its path (custom_operator_paths) from a checkout: make the pack importable by name
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mindgym_ops import formatters, ops  # noqa: E402,F401  (importing them registers them)
