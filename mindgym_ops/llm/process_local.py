"""Handles that belong to one process: a client, an engine's parts, a database connection."""

import os
from typing import Any, Dict, Optional, Tuple


class ProcessLocal:
    """Builds the attributes named in `_handles` on first use in each process, with `_open()`.

    A worker that forks or unpickles a copy of the object must not reuse its parent's sockets, event
    loop or file handles: pickling drops them, and a changed pid rebuilds them. A pickled copy looks
    the same before and after first use, so a fingerprint of it does not change when it runs."""

    _handles: Tuple[str, ...] = ()
    _pid: Optional[int] = None

    def _open(self) -> None:
        """Set every attribute named in `_handles` for this process."""
        raise NotImplementedError

    def _ensure(self) -> None:
        if self._pid != os.getpid():
            self._open()
            self._pid = os.getpid()

    def _reset(self) -> None:
        """No handles: the next `_ensure` builds them."""
        for name in self._handles:
            setattr(self, name, None)
        self.__dict__.pop("_pid", None)

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state.update(dict.fromkeys(self._handles))
        state.pop("_pid", None)
        return state
