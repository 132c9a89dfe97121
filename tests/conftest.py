"""Strict, reproducible test defaults."""

import os

import numpy as np
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers each get one BLAS thread so they do not oversubscribe the cores.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def pytest_configure(config):
    """NumPy's invalid-value and divide-by-zero RuntimeWarnings are errors in the tests: outside
    the tests that expect them (NaN/inf on purpose, marked with `pytest.mark.filterwarnings`)
    they mean a bug. Overflow and underflow stay warnings (exp of a large logit is legitimate)."""
    for message in ("invalid value encountered", "divide by zero encountered"):
        config.addinivalue_line("filterwarnings", f"error:{message}:RuntimeWarning")


@pytest.fixture(autouse=True)
def _seed():
    import striate as st

    st.manual_seed(0)
    np.random.seed(0)
    yield
