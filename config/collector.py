"""The cyclic garbage collector of a long-lived process (a web worker, a Celery worker process).

Settled once, when the process has loaded the application and before it takes work
(gunicorn's `post_worker_init`, Celery's `worker_process_init`), never switched on and off
around a request or a task: a web worker runs threads, and what one thread switches off, the
others would find off.

- What is alive at that point (Django, the views, phonenumbers' metadata...) lives as long as
  the process: frozen (`gc.freeze`), no pass walks it again.
- The youngest generation is collected after GEN0_THRESHOLD new containers, not CPython's 700.
  A request or a batch allocates tens of thousands of containers that reference counting frees
  anyway (a 10,000-customer campaign document: ~100,000; a batch of 500 webhook events); at 700,
  each was walked by a pass or three before it was freed. Measured (bench/bench_webhooks.py,
  bench/bench_reads.py): the collector took ~20% of a recording worker's CPU, 4% of a placing
  one's, and 17 ms of a 10,000-customer document (30 ms of a truncated one); with the threshold
  here, none. Cyclic garbage still goes, a pass later: at most GEN0_THRESHOLD containers wait.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000


def settle() -> None:
    """Freeze what the process has loaded and raise the youngest generation's threshold (the
    older generations keep CPython's defaults). Once per process, before it takes work."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
