"""netweave: infrastructure-as-code for multi-cloud network interconnects."""

__version__ = "0.1.0"
