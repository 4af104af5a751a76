"""Every layers test runs in a fresh symbolic graph: names and seeds never leak."""

import pytest

import symbolic as S


@pytest.fixture(autouse=True)
def graph():
    with S.Graph(name="layers-test") as g:
        yield g
