"""aftercare: the after-sales customer-care desk's toolkit, from DMS exports."""

__version__ = "0.1.0"
