"""Shared fixtures: a seeded NumPy generator and a fresh symbolic graph per test."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    """A NumPy generator with a fixed seed, so every test is reproducible."""
    return np.random.default_rng(20261127)
