"""Where partitions are judged: in this process, in local worker processes, or on a cluster.

An executor maps `judge_partition(job, chunk)` over chunks of subjects and yields the results in
chunk order, with a bounded number of chunks in flight, so that memory does not follow the input.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures.process
import contextlib
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from ..errors import InputError
from .lifeline import forked_by_main_thread, watch_parent


class Executor(Protocol):
    def map(self, fn: Callable[..., Any], job: Any, chunks: Iterable[Any], engines: Any) -> Iterator[Any]: ...

    def close(self) -> None: ...


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def local_executor(jobs: int) -> Executor:
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    return SerialExecutor() if jobs == 1 else ProcessExecutor(jobs)


class SerialExecutor:
    """Every chunk in this process, one after the other, with the audit's own engines."""

    def map(self, fn: Callable[..., Any], job: Any, chunks: Iterable[Any], engines: Any) -> Iterator[Any]:
        for chunk in chunks:
            yield fn(job, chunk, engines)

    def close(self) -> None:
        pass


class WorkerError(Exception):
    """A worker process died mid-chunk (a crash in the engine's C code, or killed): the audit stops."""


class ProcessExecutor:
    """`jobs` forked worker processes, each with its own engines; the parent only reads and joins.

    Fork, not spawn: a worker starts with the parent's compiled protocol already in memory. A worker
    that dies fails the audit at once (multiprocessing.Pool would wait for its result for ever); a
    parent that dies takes its workers with it (see lifeline.py).
    """

    def __init__(self, jobs: int):
        self.jobs = jobs
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def map(self, fn: Callable[..., Any], job: Any, chunks: Iterable[Any], engines: Any) -> Iterator[Any]:
        if self._pool is None:
            # The pool forks every worker at the first submit below, in this thread: lifeline.py says why
            # that thread matters.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.jobs, mp_context=multiprocessing.get_context("fork"), initializer=watch_parent,
                initargs=(os.getpid(), forked_by_main_thread()))
        in_flight: deque[concurrent.futures.Future[Any]] = deque()
        try:
            for chunk in chunks:
                in_flight.append(self._pool.submit(fn, job, chunk))
                if len(in_flight) >= 2 * self.jobs:
                    yield self._result(in_flight.popleft())
            while in_flight:
                yield self._result(in_flight.popleft())
        finally:
            for future in in_flight:
                future.cancel()

    @staticmethod
    def _result(future: concurrent.futures.Future[Any]) -> Any:
        try:
            return future.result()
        except concurrent.futures.process.BrokenProcessPool:
            raise WorkerError("a worker process died while judging subjects (a crash in the engine, or the "
                              "process was killed); no report was written") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


DASK_TIMEOUT = 10.0  # seconds to reach the scheduler, and for it to have a worker


def dask_executor(address: str, timeout: float = DASK_TIMEOUT) -> Executor:
    """Partitions judged on the Dask cluster whose scheduler is at `address`.

    Fails as an InputError (exit code 2, no traceback) when dask is not installed, the address is not
    one, the scheduler cannot be reached within `timeout` seconds, or it has no worker by then.
    """
    try:
        from distributed import Client
    except ImportError:
        raise InputError(address, "the Dask executor needs dask: pip install 'jk500-rules[dask]'") from None
    _reach(address, timeout)
    client = Client(address, timeout=timeout, set_as_default=False)
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise InputError(address, f"the Dask scheduler has no worker after {timeout:g} s; start one per core "
                                  f"with: dask worker --nthreads 1 {address}") from None
    return DaskExecutor(client, address)


def _reach(address: str, timeout: float) -> None:
    """Connect once and hang up, before any Client exists: a Client that failed to start is left
    half-made, and at exit it prints a traceback and holds the process for seconds."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def knock() -> None:  # with the client's settings from dask's config (TLS, for one)
        comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
        await comm.close()

    outcome: list[BaseException] = []

    def run() -> None:  # a thread of its own: the caller may already be inside an event loop (Jupyter)
        try:
            asyncio.run(knock())
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            outcome.append(exc)

    thread = threading.Thread(target=run, name="jk500-dask-reach", daemon=True)
    thread.start()
    thread.join(timeout + 5)
    if thread.is_alive():
        raise InputError(address, f"cannot reach the Dask scheduler within {timeout:g} s")
    if not outcome:
        return
    exc = outcome[0]
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (ValueError, TypeError)):
        raise InputError(address, f"not a Dask scheduler address ({reason}); e.g. tcp://10.0.0.5:8786")
    if isinstance(exc, (OSError, TimeoutError)):
        why = "" if reason.startswith("Timed out") else f" ({reason})"
        raise InputError(address, f"cannot reach the Dask scheduler within {timeout:g} s{why}")
    raise exc


class DaskExecutor:
    """Chunks submitted to a Dask cluster, a bounded window at a time; results taken in chunk order.

    The job goes to every worker once (scattered), each chunk as one task. A worker process judges
    one chunk at a time whatever its thread count (see `_one_at_a_time`), so the window is two chunks
    per worker process: one being judged, one waiting, and no more rows than that leave the parent.
    """

    def __init__(self, client: Any, address: str):
        self.client = client
        self.address = address

    def window(self) -> int:
        """Set from the workers there when a pass starts: workers that join later are used, not counted."""
        return 2 * max(1, len(self.client.nthreads()))

    def map(self, fn: Callable[..., Any], job: Any, chunks: Iterable[Any], engines: Any) -> Iterator[Any]:
        # `engines` are this process's own: a worker uses its process-wide ones.
        from distributed import CancelledError, KilledWorker
        from distributed.comm import CommClosedError

        in_flight: deque[Any] = deque()
        shared_job = None
        try:
            shared_job = self.client.scatter(job, broadcast=True, hash=False)
            window = self.window()
            for chunk in chunks:
                # pure=False: no hashing of every chunk's rows, and equal chunks are two tasks.
                in_flight.append(self.client.submit(_one_at_a_time, fn, shared_job, chunk, pure=False))
                if len(in_flight) >= window:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        except (CancelledError, KilledWorker, CommClosedError) as exc:  # the cluster failed, not the audit
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(self.address, f"the Dask cluster failed during the audit ({reason})") from None
        finally:
            # Stopped early (an error, or the consumer gave up): free the cluster, if it is still there.
            with contextlib.suppress(Exception):
                if in_flight:
                    self.client.cancel(list(in_flight))
                if shared_job is not None:
                    self.client.cancel([shared_job])

    def close(self) -> None:
        """Closes the connection; the cluster goes on."""
        # After a lost scheduler, closing cancels the client's attempt to reconnect, which dask logs
        # with a traceback: the audit has already said what failed.
        client_log = logging.getLogger("distributed.client")
        level = client_log.level
        client_log.setLevel(logging.CRITICAL)
        try:
            self.client.close()
        finally:
            client_log.setLevel(level)


_JUDGING = threading.Lock()


def _one_at_a_time(fn: Callable[..., Any], job: Any, chunk: Any) -> Any:
    """Runs on a worker. durable-rules' engines and the audit's process-wide engine cache are not
    thread-safe, and a Dask worker may run several tasks at once in threads: they take turns."""
    with _JUDGING:
        return fn(job, chunk)
