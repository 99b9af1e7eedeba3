"""One op per file; the file name is the registered op name."""

from . import (  # noqa: F401
    mindgym_background_mapper,
)
