"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

import gc

from dashboard import create_app

app = create_app()

# What is built by now (the modules, the app, its mappers, templates' environment, catalogues)
# lives as long as the process: kept out of the collector's reach, a full collection walks some
# 20 000 objects rather than 160 000, an 8 ms pause in whichever request meets it instead of 70
# to 85 ms (`make bench` saw it as a 9x p95 on some page). Under `gunicorn --preload` it also
# keeps the workers from copying those pages when the collector would touch them.
gc.freeze()
