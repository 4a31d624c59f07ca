"""Gunicorn settings read from the project folder (``gunicorn wsgi:app``, ``make run``).

Each worker warms its caches in a background thread once it has loaded the app, so that the
first visitors do not pay for computing coverage, boundaries and compressed payloads.
"""


def post_worker_init(worker):
    from geoapp.web.warmup import start_warmup

    start_warmup(worker.wsgi)
