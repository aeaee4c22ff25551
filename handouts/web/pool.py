"""Warm render workers: each a process holding a `Workshop`, fed one job at a time.

A worker takes jobs once it says it is ready (sources loaded, common shapes laid out),
so its warm-up never counts against a job's time limit. A render that runs longer than
the limit is ended by killing its process (a thread could not be stopped) and a fresh
worker takes its place. Workers are also replaced after a number of jobs, so memory
stays flat and no patient's drawn values linger in a long-lived process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import HandoutsError
from .workshop import Workshop

JOBS_PER_WORKER = 500
LOG = logging.getLogger("make_handouts.web")


class RenderTimeout(Exception):
    """A render took longer than the limit; its worker was ended."""


class RenderFailed(Exception):
    """A worker died or raised something other than the project's own errors."""


def _work(connection: multiprocessing.connection.Connection, sources_dir: Path,
          layouts_dir: Path, warm: bool) -> None:
    """A worker's life: warm up, then run jobs (a Workshop method name and arguments)
    until the pipe closes. Only the project's errors travel back whole; anything else
    travels as its type's name, never its message (it could quote patient data)."""
    workshop = Workshop(sources_dir, layouts_dir)
    if warm:
        workshop.warm_up()
    connection.send(("ready", None))
    while True:
        try:
            method, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", getattr(workshop, method)(*args))
        except HandoutsError as error:
            reply = ("problems", error.problems)
        except Exception as error:  # noqa: BLE001 - reported by type, the server stays up
            reply = ("crash", type(error).__name__)
        connection.send(reply)


class _Worker:
    def __init__(self, sources_dir: Path, layouts_dir: Path, warm: bool):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_work,
                                       args=(child, sources_dir, layouts_dir, warm),
                                       daemon=True, name="make_handouts-render")
        self.process.start()
        child.close()
        self.jobs = 0

    def call(self, method: str, args: tuple) -> tuple[str, Any]:
        self.jobs += 1
        self.connection.send((method, args))
        return self.connection.recv()

    def stop(self) -> None:
        self.connection.close()
        self.process.kill()
        self.process.join(5)


class RenderPool:
    """`size` warm workers; `run` hands a job to the next free one."""

    def __init__(self, sources_dir: Path, layouts_dir: Path, size: int, timeout: float,
                 warm: bool = True):
        self.sources_dir = sources_dir
        self.layouts_dir = layouts_dir
        self.size = size
        self.timeout = timeout
        self.warm = warm
        self.idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self.workers: list[_Worker] = []
        self.starting: set[asyncio.Task] = set()

    def _spawn(self) -> None:
        """A new worker, handed out once it is warm."""
        worker = _Worker(self.sources_dir, self.layouts_dir, self.warm)
        self.workers.append(worker)
        self.starting.add(asyncio.create_task(self._when_ready(worker)))

    async def _when_ready(self, worker: _Worker) -> None:
        try:
            await asyncio.to_thread(worker.connection.recv)
        except (EOFError, OSError):
            LOG.error("a render worker stopped while starting")
            if worker in self.workers:
                self.workers.remove(worker)
            return
        self.idle.put_nowait(worker)

    def _retire(self, worker: _Worker) -> None:
        worker.stop()
        self.workers.remove(worker)
        self._spawn()

    def start(self) -> None:
        for _ in range(self.size):
            self._spawn()

    def stop(self) -> None:
        for task in self.starting:
            task.cancel()
        for worker in list(self.workers):
            worker.stop()
        self.workers.clear()

    async def run(self, method: str, *args: Any) -> Any:
        """The job's result; HandoutsError, RenderTimeout or RenderFailed otherwise."""
        worker = await self.idle.get()
        call: Callable[[], tuple[str, Any]] = lambda: worker.call(method, args)
        try:
            status, value = await asyncio.wait_for(asyncio.to_thread(call), self.timeout)
        except TimeoutError:
            self._retire(worker)
            raise RenderTimeout from None
        except (EOFError, OSError):
            self._retire(worker)
            raise RenderFailed("the render worker stopped") from None
        except BaseException:  # the request was cancelled: the worker's state is unknown
            self._retire(worker)
            raise
        if worker.jobs >= JOBS_PER_WORKER:
            self._retire(worker)
        else:
            self.idle.put_nowait(worker)
        if status == "problems":
            raise HandoutsError(value)
        if status == "crash":
            raise RenderFailed(value)
        return value
