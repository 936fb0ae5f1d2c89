"""Compilations built in background threads of the web process: the quick start's worker.

Without REDIS_URL, Celery runs jobs "eagerly", inside the request that queued them, so the person's tab
waits until the file is built (a ledger as PDF takes minutes) and never sees the progress page. With the
setting ``COMPILATIONS_IN_BACKGROUND`` on (``make run`` sets it), ``jobs.compilation_enqueue`` hands the id
to one of a few daemon threads here instead: the request returns at once and the page polls the row.

The thread runs the same ``build.compilation_run`` as a worker: the time limit is the progress reporter's
deadline (no signal reaches a thread), and ``compilation_check_stuck`` fails a run that died. Daemon threads
do not hold up a restart (runserver's reloader, Ctrl-C); on the way out the rows this process still had
queued or running are failed with a message, so nobody waits for a build that will not come.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading

from django.conf import settings
from django.db import connection

from . import build

logger = logging.getLogger(__name__)

# Two builds at once: a small document need not wait behind a long ledger, and the machine running the quick
# start keeps a core for the pages.
WORKERS = 2

_lock = threading.Lock()
_queue: queue.SimpleQueue[int] = queue.SimpleQueue()
_threads: list[threading.Thread] = []
_pending: set[int] = set()  # ids queued here or being built here, for the way out
_exit_hook_registered = False


def enabled() -> bool:
    """Builds go to this process's threads: jobs run in-process and the setting asks for it."""
    return bool(getattr(settings, "COMPILATIONS_IN_BACKGROUND", False)) and build.in_process()


def submit(compilation_id: int) -> None:
    """Build this compilation in a background thread (started on demand). Call after the commit that
    created the row (``transaction.on_commit``), so that the thread sees it."""
    global _exit_hook_registered
    with _lock:
        _pending.add(compilation_id)
        _threads[:] = [thread for thread in _threads if thread.is_alive()]
        while len(_threads) < WORKERS:
            thread = threading.Thread(
                target=_work, name=f"compilation-builder-{len(_threads) + 1}", daemon=True
            )
            thread.start()
            _threads.append(thread)
        if not _exit_hook_registered:
            atexit.register(_fail_unfinished)
            _exit_hook_registered = True
    _queue.put(compilation_id)


def pending() -> set[int]:
    """The ids this process has queued or is building."""
    with _lock:
        return set(_pending)


def _work() -> None:
    while True:
        compilation_id = _queue.get()
        try:
            build.compilation_run(compilation_id=compilation_id)
        except Exception:  # compilation_run records its own failures; this only keeps the thread alive
            logger.exception("background build of compilation %s", compilation_id)
        finally:
            with _lock:
                _pending.discard(compilation_id)
            connection.close()  # this thread's own connection; the next build opens a fresh one


def _fail_unfinished() -> None:
    """At interpreter exit daemon threads stop where they are: say so in the rows they held."""
    ids = pending()
    if not ids:
        return
    try:
        build.compilations_abandon(
            ids=ids,
            message="生成过程中服务已停止或重启，文件未生成完成。请点击“重试”重新生成。",
        )
    except Exception:  # the process is going away; never stand in its way
        logger.exception("could not mark compilations %s as failed on exit", sorted(ids))
