"""The worker processes of a run, started when first needed and shared by its steps (rows streamed
table by table, indexes built table by table). Processes, not threads: COPY and the statements' client
side hold the interpreter lock, and each worker opens its own connections."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

J = TypeVar("J")
R = TypeVar("R")


class Workers:
    def __init__(self, jobs: int, target_url: str | None) -> None:
        self.jobs = jobs
        self.target_url = target_url  # workers connect by URL: without one, everything runs in this process
        self._pool: ProcessPoolExecutor | None = None

    @property
    def available(self) -> bool:
        return self.jobs > 1 and self.target_url is not None

    def map(self, function: Callable[[J], R], jobs: Iterable[J], failed: Callable[[J, BaseException], R],
            on_done: Callable[[R], None] | None = None) -> list[R]:
        """`function` over `jobs` in the workers, in submission order; a worker that died gives `failed`."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=die_with_parent)
        submitted: list[tuple[J, Future[R]]] = []
        for job in jobs:
            future = self._pool.submit(function, job)
            if on_done is not None:
                future.add_done_callback(_reporting(on_done))
            submitted.append((job, future))
        results = []
        for job, future in submitted:
            try:
                results.append(future.result())
            except Exception as exc:  # killed, out of memory: the pool is broken, start another next time
                results.append(failed(job, exc))
                self.close()
        return results

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def die_with_parent() -> None:
    """In a worker: be killed when the run that started it dies (SIGKILL, out of memory). Otherwise the
    worker would finish and commit its table after the run is gone, beside the run that resumes it."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the call
        os._exit(1)


def _reporting(on_done: Callable[[Any], None]) -> Callable[[Future[Any]], None]:
    def done(future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None:
            on_done(future.result())

    return done
