"""Every symbolic test runs in a fresh graph: nothing leaks between tests."""

import pytest

import symbolic as S


@pytest.fixture(autouse=True)
def graph():
    with S.Graph(name="test") as g:
        yield g
