"""Building big models without the cyclic garbage collector in the way.

Lint, the forwarding model and reach's matrix allocate hundreds of thousands of small
objects that all live until the command ends. The cyclic collector would rescan them
again and again while they are built (~20% of a lint), and once it is back on, its
first young-generation pass would still walk every one of them (0.2 s at 100,000
prefixes) although none is garbage.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Pause the cyclic GC while a model is built; afterwards hand what was built
    straight to the oldest generation (``gc.freeze`` then ``gc.unfreeze`` move the
    young generations there without scanning them), so no deferred pass walks it. Garbage
    among those objects is still freed by reference counting, and cycles by the next
    full collection, as for any long-lived object."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
