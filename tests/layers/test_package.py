"""The ``layers`` package entry point: lazy loading of every public name (PEP 562)."""

import importlib
import subprocess
import sys

import pytest

import layers


def _run(code: str) -> list:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_import_does_not_load_symbolic():
    code = (
        "import sys, layers, layers.analysis; "
        "print('symbolic' in sys.modules, 'layers.dense' in sys.modules)"
    )
    assert _run(code) == ["False", "False"]


def test_attribute_access_loads_on_demand():
    code = (
        "import sys, layers as L; d = L.Dense; "
        "print('symbolic' in sys.modules, d.__module__, 'Dense' in vars(L))"
    )
    assert _run(code) == ["True", "layers.dense", "True"]


@pytest.mark.parametrize("name", layers.__all__)
def test_every_exported_name_imports(name):
    namespace = {}
    exec(f"from layers import {name}", namespace)
    value = namespace[name]
    assert value is getattr(layers, name)
    if name[0].isupper() or callable(value):
        assert value.__module__.startswith("layers")
    else:
        assert value.__name__ == f"layers.{name}"


def test_star_import_matches_all():
    namespace = {}
    exec("from layers import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(layers.__all__)


def test_dir_lists_public_names_and_submodules():
    listing = dir(layers)
    assert set(layers.__all__) <= set(listing)
    assert {"analysis", "dense", "base"} <= set(listing)


def test_submodules_reachable_as_attributes():
    assert layers.analysis is importlib.import_module("layers.analysis")
    assert layers.spline is importlib.import_module("layers.spline")


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="module 'layers' has no attribute 'Dnse'"):
        layers.Dnse  # noqa: B018
    assert not hasattr(layers, "TODO_not_a_name")
