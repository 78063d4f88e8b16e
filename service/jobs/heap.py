"""The garbage collector's pace for batch jobs.

A sync, import, classify or demo build makes millions of small objects that live for one
batch and hold no reference cycles. CPython's full collections walk the whole heap, and a
growing heap (the directory of accounts, the remembered affiliations) makes each one dearer:
measured on `partnerscope classify` over 20,000 demo tickets, they cost a third of the run
(27.6 s against 17.8 s). During a job, young objects are still collected as usual; only the
full collections are made rare. The web server keeps the interpreter's defaults.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

RARE_FULL_COLLECTIONS = 10_000  # generation-1 collections between full ones (CPython's default: 10)


@contextmanager
def batch_collections() -> Iterator[None]:
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, RARE_FULL_COLLECTIONS))
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)
