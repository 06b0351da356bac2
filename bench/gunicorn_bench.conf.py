"""gunicorn's settings for the benchmarks' server (bench/bench_webhooks.py): each worker is readied
as the web process's are (config/gunicorn.conf.py's post_worker_init: every view loaded, the cyclic
collector settled), without the web process's access log, which the figures have never included."""

from __future__ import annotations

import runpy
from pathlib import Path

WEB_CONFIG = Path(__file__).resolve().parent.parent / "config" / "gunicorn.conf.py"
post_worker_init = runpy.run_path(str(WEB_CONFIG))["post_worker_init"]
