"""Bulkhead: a validating admission webhook that keeps insecure containers out of a cluster."""

__version__ = "0.1.0"
