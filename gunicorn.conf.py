"""Gunicorn settings read from the project folder (``gunicorn wsgi:app``, ``make run``).

Each worker warms its caches in a background thread once it has loaded the app, so that the
first visitors do not pay for computing coverage, boundaries and compressed payloads.
Each worker answers with several threads (gthread), so that a slow report never holds the
worker: reports take at most ``geoapp.web.limits.RENDER_SLOTS`` of them.
"""

threads = 8


def post_worker_init(worker):
    import sys

    from geoapp.web.warmup import start_warmup

    # A thread rendering a report holds the GIL for up to the switch interval each time another
    # thread wants it; a short request (/healthz) wants it a few times: 1 ms instead of 5 ms
    # keeps it fast while a report renders.
    sys.setswitchinterval(0.001)
    limit_malloc_arenas()
    start_warmup(worker.wsgi)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each new thread its own malloc arena (up to 8 per core), and the memory
    freed in one is not reused by another: with 8 threads a worker's memory kept growing for
    minutes. Two arenas, set before the worker's threads start, keep it flat."""
    import ctypes

    m_arena_max = -8  # mallopt parameter number (malloc.h)
    try:
        ctypes.CDLL("libc.so.6").mallopt(m_arena_max, arenas)
    except OSError:  # not glibc
        pass
