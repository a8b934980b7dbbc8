"""Worker processes that end when their parent does: a killed audit leaves no worker behind.

A forked worker waits on a pipe its siblings also hold open, so it never sees its parent go: killed
with SIGKILL, the parent would leave every worker alive for good. Each worker therefore watches its
parent two ways, from the pool's initializer (`watch_parent`):

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGKILL)`: the kernel kills the worker the moment its parent
  ends. The kernel ties this to the *thread* that forked, not the process: the signal fires when
  that thread ends, even if the process goes on. It is asked for only when the main thread forked
  (`forked_by_main_thread`), which lives as long as the process: CPython's main thread waits for
  every other thread before it ends. ProcessExecutor forks all its workers at once, from the thread
  that submits the first chunk (the fork start method never forks later), so it knows which thread
  that was; a worker forked from any other thread relies on the watchdog alone.
- everywhere, a daemon thread that polls `os.getppid()`: a process whose parent ended is handed to
  another (init, or a subreaper), so a changed parent id means the parent is gone, and the worker
  exits. It also covers the moment between fork and prctl.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 0.25  # how often the watchdog looks: a worker outlives its parent by at most this
EXIT_ORPHANED = 70  # a worker's exit status when its parent was gone (no one is left to read it)


def forked_by_main_thread() -> bool:
    """Whether a fork made now would be made by the main thread: PR_SET_PDEATHSIG is safe only then."""
    return threading.current_thread() is threading.main_thread()


def watch_parent(parent: int, pdeathsig: bool) -> None:
    """Runs first in each worker: end this process when `parent` (the audit's process id) ends."""
    if pdeathsig:
        _ask_kernel()
    if os.getppid() != parent:  # the parent died before the watch began
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_watchdog, args=(parent,), name="jk500-parent-watch", daemon=True).start()


def _ask_kernel() -> bool:
    """SIGKILL this process when the thread that forked it ends (Linux only); whether the kernel agreed."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here, in the worker: the command line's start-up does not pay for it

    try:
        # The process's own symbols, libc's among them: no search for the library (which may run ldconfig).
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):  # no libc to load, or one without prctl: the watchdog remains
        return False


def _watchdog(parent: int) -> None:
    """Polls the parent's id: os._exit, since the parent that could read a result or join us is gone."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(EXIT_ORPHANED)
