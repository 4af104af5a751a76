"""A scoring backend on a Dask cluster: files are tasks, results stream back to this process.

:class:`DaskFiles` is a :class:`~scatter.run.backend.ScoringBackend` over a
``dask.distributed`` client: each file is one task (:func:`score_file_task`) that decodes the
file on a worker and scores its windows there in batches
(:func:`scatter.run.backend.score_file`: the windows of the local run, so the scores equal
the local run's up to float rounding). Outcomes come back as tasks complete
(``distributed.as_completed``) to the process that runs the :class:`~scatter.run.DetectionRun`,
which writes every output, the journal and the resume state exactly as for a local run.

The scorer. It travels to the workers once, as the result of one small task of its own that
every file's task depends on (so a worker that joins later fetches it, and Dask recomputes it
if the workers holding it die). A scorer that builds something heavy, such as a compiled model
(:class:`scatter.detect.ShippedDetector`), builds it on first use in each worker process and
keeps it there, keyed by the model's fingerprint: one load and one compilation per worker.

Lost workers. Tasks only read their file and return its scores; nothing is written on the
workers. A worker that dies mid-run loses only its tasks in flight, which Dask runs again on
another worker (after ``distributed.scheduler.allowed-failures`` deaths, 3 by default, the
task is given up: that file gets an error row instead of stopping the run). The backend
takes one outcome per file (a file run twice is reported once), and releases each result as
soon as it has it, so a later worker death does not make Dask compute it again.

Example
-------
>>> from distributed import Client
>>> from scatter.run import DetectionRun, Framing, ResultsCsv
>>> with Client("tcp://scheduler:8786") as client:                 # doctest: +SKIP
...     run = DetectionRun(["/data/recordings"], backend=DaskFiles(client, scorer,
...                        batch_size=32), framing=Framing(sr=22050, window=57330,
...                        hop=57330), threshold=0.5, aggregate=max, settings={},
...                        outputs=[ResultsCsv("results.csv")])
...     run.run()
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid

from scatter.errors import ScatterError, check_int
from scatter.run.backend import ScoringBackend, score_file
from scatter.run.messages import FileFailed, error_text

__all__ = ["DaskFiles", "connect", "local_cluster", "score_file_task"]

_LOCAL = re.compile(r"local:(\d+)")


def _identity(value):
    """The task that holds the scorer on the cluster (its argument is its result)."""
    return value


def score_file_task(file_id, path, *, framing, scorer, options):
    """One file's task on a worker: :func:`scatter.run.backend.score_file`.

    Pure and idempotent: it reads the file and returns its outcome, and writes nothing, so
    running it again (after a worker died) gives the same outcome.

    Parameters
    ----------
    file_id : int
    path : str
    framing : scatter.run.decode.Framing
    scorer : callable
    options : dict
        ``batch_size``, ``fixed_batch`` and ``with_features`` of :func:`score_file`.

    Returns
    -------
    outcome : FileScored or FileFailed
    n_batches : int
    """
    return score_file(file_id, path, framing, scorer, **options)


def _killed_worker_types():
    """The exceptions that say a task was given up because its workers kept dying."""
    from distributed.scheduler import KilledWorker

    return (KilledWorker,)


class DaskFiles(ScoringBackend):
    """Score files as Dask tasks, one per file (module docstring).

    Parameters
    ----------
    client : distributed.Client
        A connected client (:func:`connect`).
    scorer : callable
        Picklable: ``scorer(batch) -> scores`` (float32 ``(batch_size, window)`` to
        ``(batch_size,)``), or ``(scores, features)`` with ``with_features``.
    batch_size : int
        Windows per scorer call on a worker.
    fixed_batch : bool
        Zero-pad a file's last batch to ``batch_size`` (one compiled shape).
    with_features : bool
        The scorer also returns each window's features (:attr:`FileScored.features`).

    Examples
    --------
    >>> backend = DaskFiles(client, scorer, batch_size=32)   # doctest: +SKIP
    """

    def __init__(self, client, scorer, *, batch_size, fixed_batch=True, with_features=False):
        if not all(hasattr(client, name) for name in ("submit", "map", "cancel")):
            raise ScatterError(f"client must be a dask.distributed Client; got {client!r}")
        self.client, self.scorer = client, scorer
        self.batch_size, self.fixed_batch = int(batch_size), bool(fixed_batch)
        self.with_features = bool(with_features)
        self._n_batches = 0

    @property
    def n_batches(self):
        """Scorer calls made on the workers for the files of the last :meth:`score_files`."""
        return self._n_batches

    def score_files(self, paths, framing):
        """Submit one task per file; yield the outcomes as tasks complete (see
        :meth:`ScoringBackend.score_files`).

        Raises
        ------
        Exception
            An exception of the scorer on a worker passes through (a fault of the model);
            closing the iterator early cancels the tasks not yet finished.
        """
        from distributed import as_completed

        self._n_batches = 0
        paths = list(paths)
        if not paths:
            return
        run = uuid.uuid4().hex
        scorer = self.client.submit(_identity, self.scorer, key=f"symscatter-scorer-{run}",
                                    pure=False)
        options = {"batch_size": self.batch_size, "fixed_batch": self.fixed_batch,
                   "with_features": self.with_features}
        futures = self.client.map(
            score_file_task, range(len(paths)), paths, framing=framing, scorer=scorer,
            options=options, key=[f"symscatter-file-{run}-{i}" for i in range(len(paths))],
            pure=False)
        ids = {future.key: i for i, future in enumerate(futures)}
        pending = dict(zip(ids, futures, strict=True))
        seen = set()
        given_up = _killed_worker_types()
        try:
            for future in as_completed(futures):
                file_id = ids[future.key]
                try:
                    outcome, n_batches = future.result()
                except given_up as exc:
                    outcome, n_batches = FileFailed(file_id, None, (
                        f"{paths[file_id]!r}: its task was given up after the Dask workers "
                        f"running it died ({error_text(exc)})")), 0
                pending.pop(future.key, None)
                future.release()  # the result is here: a later worker death loses nothing
                if file_id in seen:
                    continue
                seen.add(file_id)
                self._n_batches += n_batches
                yield outcome
        finally:
            left = list(pending.values())
            if left:
                self.client.cancel(left)
            scorer.release()


def local_cluster(n_workers, **kwargs):
    """A ``distributed.LocalCluster`` of ``n_workers`` worker processes on this machine.

    One thread per worker (a worker's JAX computation has threads of its own), each worker
    given ``cores // n_workers`` JAX CPU devices (through its ``XLA_FLAGS``), so that the
    workers share the cores instead of each splitting all of them, and the scheduler's HTTP
    server (the dashboard, with bokeh installed: ``client.dashboard_link``) on a free port of
    the loopback interface, so that it never clashes with another cluster's 8787.

    Parameters
    ----------
    n_workers : int
    **kwargs
        Passed to ``LocalCluster`` (over the defaults above).

    Returns
    -------
    distributed.LocalCluster

    Raises
    ------
    ScatterError
        For a non-positive ``n_workers``.
    """
    from distributed import LocalCluster

    n_workers = check_int(n_workers, "n_workers")
    from scatter.runtime import cpu_device_count

    per_worker = max(1, cpu_device_count({}) // n_workers)
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count")]
    if per_worker > 1:
        flags.append(f"--xla_force_host_platform_device_count={per_worker}")
    options = {"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
               "dashboard_address": "127.0.0.1:0", "env": {"XLA_FLAGS": " ".join(flags)}}
    options.update(kwargs)
    return LocalCluster(**options)


@contextlib.contextmanager
def connect(address, *, timeout_s=30.0):
    """A Dask client for ``address``: a scheduler (``tcp://host:8786``, or a scheduler file's
    address), or ``local:N`` for a :func:`local_cluster` of N worker processes started here
    and stopped on leaving the block.

    Parameters
    ----------
    address : str
    timeout_s : float
        Seconds to wait for the scheduler.

    Yields
    ------
    distributed.Client

    Raises
    ------
    ScatterError
        For ``local:0``, or a scheduler that cannot be reached.

    Examples
    --------
    >>> with connect("local:2") as client:                          # doctest: +SKIP
    ...     summary = detect(["recordings/"], out="results.csv", client=client)
    """
    from distributed import Client

    if not isinstance(address, str) or not address:
        raise ScatterError(f"dask address must be a scheduler address or 'local:N'; got "
                           f"{address!r}")
    m = _LOCAL.fullmatch(address)
    if m is not None:
        n = int(m.group(1))
        if n < 1:
            raise ScatterError(f"dask address 'local:N' needs N >= 1 workers; got {address!r}")
        with local_cluster(n) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ScatterError(f"dask address {address!r}: cannot reach the scheduler ({exc}); "
                           f"expected a running scheduler's address (tcp://host:8786) or "
                           f"'local:N'") from None
    with client:
        yield client
