"""Shared fixtures: small networks and trials with inputs, outputs and a mask."""

import numpy as np
import pytest

import rflo


def make_trial(rng, T=12, n_x=2, n_y=2, masked=True, h0=0.1):
    x = rng.normal(size=(T, n_x))
    y = rng.normal(size=(T, n_y))
    mask = (rng.random(T) < 0.7).astype(float) if masked else None
    return rflo.Trial(x, y, mask, h0=h0)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=[1.0, 2.0, 10.0], ids=lambda tau: f"tau{tau:g}")
def tau(request):
    return request.param
