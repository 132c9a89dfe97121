"""Strict, reproducible test defaults."""

import os

import numpy as np
import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers each get one BLAS thread so they do not oversubscribe the cores.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


@pytest.fixture(autouse=True)
def _seed():
    import striate as st

    st.manual_seed(0)
    np.random.seed(0)
    yield
