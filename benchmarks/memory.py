"""Memory of the benchmark's child process and of its workers, from /proc (VmRSS, VmHWM, PSS) and getrusage.

With worker processes the audit process's own peak (VmHWM) misses the workers, so the audit also
reports the largest child's peak (RUSAGE_CHILDREN, once the workers have exited) and samples the RSS
of the whole process tree.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from typing import Any


def status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM in bytes; empty if the process is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def children_peak() -> int:
    """The largest peak RSS of any child waited for so far (bytes; Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids += [int(x) for x in fh.read().split()]
            except OSError:
                continue
    except OSError:
        pass
    return kids


def pss(pid: int | str = "self") -> int | None:
    """Proportional set size in bytes: shared pages divided among the processes that map them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class TreeSampler(threading.Thread):
    """Samples the memory of this process plus all live descendants (worker processes).

    Every `interval` s: the sum of VmRSS (a forked worker's RSS counts the pages it shares with the
    parent, so the sum over-counts), and each process's VmHWM. Less often, as reading smaps_rollup
    walks page tables (about 5 ms at 1.5 GB): the sum of PSS, which splits shared pages among their
    processes, so its maximum estimates what the machine actually held. Both are samples: a spike
    between two is missed. The PSS interval adapts so that sampling stays near 1% of a core.
    """

    def __init__(self, interval: float = 0.05, pss_interval: float = 0.25):
        super().__init__(daemon=True)
        self.interval = interval
        self.pss_interval = pss_interval
        self.peak = 0
        self.pss_peak = 0
        self.samples = 0
        self.pss_samples = 0
        self.pids: set[int] = set()
        self.child_hwm: dict[int, int] = {}
        self._halt = threading.Event()
        self._next_pss = 0.0

    def _tree(self) -> list[int]:
        pids, frontier = [], _children(os.getpid())
        while frontier:
            pid = frontier.pop()
            pids.append(pid)
            frontier += _children(pid)
        return pids

    def sample(self, with_pss: bool = False) -> None:
        tree = self._tree()
        total = status().get("VmRSS", 0)
        for pid in tree:
            s = status(pid)
            if s:
                self.pids.add(pid)
                total += s.get("VmRSS", 0)
                self.child_hwm[pid] = max(self.child_hwm.get(pid, 0), s.get("VmHWM", 0))
        self.peak = max(self.peak, total)
        self.samples += 1
        if with_pss:
            t = time.perf_counter()
            shares = [pss(), *(pss(pid) for pid in tree)]
            self.pss_peak = max(self.pss_peak, sum(x for x in shares if x))
            self.pss_samples += 1
            self._next_pss = time.perf_counter() + max(self.pss_interval, 100 * (time.perf_counter() - t))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample(with_pss=time.perf_counter() >= self._next_pss)

    def stop(self) -> dict[str, Any]:
        self._halt.set()
        self.join()
        self.sample(with_pss=True)
        return {"tree_peak_sampled": self.peak, "tree_pss_peak_sampled": self.pss_peak or None,
                "tree_samples": self.samples, "tree_pss_samples": self.pss_samples,
                "workers_seen": len(self.pids), "workers_hwm_sum": sum(self.child_hwm.values()) or None,
                "worker_hwm_max": max(self.child_hwm.values(), default=None)}
