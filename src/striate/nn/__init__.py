"""Neural-network building blocks (modules are added by the modules issue)."""

from striate.nn import functional

__all__ = ["functional"]
