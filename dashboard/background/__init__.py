"""Background work on one task queue: the outbox of jobs, periodic tasks, the Huey worker.

``jobs`` and ``periodic`` keep their state in the database (what must not be lost or done
twice); ``queue`` hands work to Huey (SQLite file by default, Redis for several machines);
``tasks`` says what each job and periodic task does; ``worker`` runs it all.
"""
