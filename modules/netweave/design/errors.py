"""What the design layer says when a topology cannot become a design as asked."""

from __future__ import annotations


class DesignError(Exception):
    """The topology cannot be built, rendered or deployed as asked (a refused feature, a
    missing public address, a size limit...). Lint reports the cause first; this is the
    last line of defence for callers that skip lint."""
