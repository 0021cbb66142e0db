"""Parsing a lead file's records in chunks, in file order: in this process or on a pool of workers.

The importing process reads the records (:mod:`dialer.leads._stream`) and hands them out in chunks
of ``chunk_rows``; each chunk is parsed by :func:`dialer.leads._chunks.process_chunk`, here or in a
worker process (one per core), and the outcomes come back in file order, so row numbers and "first
row wins" folding are the same as parsing the file whole.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from dialer.leads._chunks import ChunkOut, ChunkSpec, init_worker, process_chunk, worker_chunk
from dialer.leads._stream import Record


def cores() -> int:
    """The CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _batched(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    """``records`` in lists of ``size`` (the last one shorter), read lazily."""
    while batch := list(islice(records, size)):
        yield batch


def parsed_chunks(
    spec: ChunkSpec, records: Iterator[Record], *, workers: int, chunk_rows: int
) -> Iterator[ChunkOut]:
    """The chunks' outcomes in file order; with ``workers > 1`` parsed by a process pool.

    Args:
        spec: what every chunk is parsed with (sent once to each worker).
        records: the file's records (:data:`dialer.leads._stream.Record`), in file order.
        workers: parser processes; 1 or fewer: parse in this process.
        chunk_rows: records per chunk (at least 1 is used).

    At most ``2 * workers`` chunks are in flight, so memory does not grow with the file. Closing
    the iterator early cancels the chunks not started yet.
    """
    chunks = _batched(records, max(1, chunk_rows))
    if workers <= 1:
        for chunk in chunks:
            yield process_chunk(spec, chunk)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(spec,)) as pool:
        pending: deque[Future[ChunkOut]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(worker_chunk, chunk))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
