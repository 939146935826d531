"""Numba kernels: plain functions over contiguous arrays, one module per topic.

Every kernel has a NumPy reference (``*_ref``) in the same module, used by the
tests and as documentation. Decorator policy lives in :mod:`skngd._kernels._jit`.
"""
