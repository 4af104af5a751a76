"""Tests of the shared helpers in scatter._fft that no other test file covers directly."""

import os

import pytest

from scatter._fft import usable_cores


def test_usable_cores_is_the_affinity_mask(monkeypatch):
    if hasattr(os, "sched_getaffinity"):
        assert usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert usable_cores() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cores() == 1


@pytest.mark.parametrize("n", [1, 3])
def test_scattering_workers_default_follows_usable_cores(n, monkeypatch):
    from scatter.scattering import Scattering1D

    monkeypatch.setattr("scatter.scattering._frontend.usable_cores", lambda: n)
    sc = Scattering1D(J=3, shape=64, Q=(1, 1))
    assert sc._n_workers(10) == n
    assert sc._n_workers(2) == min(n, 2)
