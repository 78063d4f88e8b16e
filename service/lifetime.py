"""A child process that ends with its parent, even a parent killed with SIGKILL, which has no
chance to stop its children: a leftover child would go on holding what the parent held (a
listening port, claimed webhook deliveries) while a restarted parent waits for it."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def end_with_parent(parent_pid: int, signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel for `signum` when the parent dies (Linux); False where that cannot be
    asked. Exits at once, status 0, when the parent `parent_pid` died before the asking."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent_pid:
        sys.exit(0)
    return True
