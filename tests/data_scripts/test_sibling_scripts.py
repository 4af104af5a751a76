"""Tests of data_scripts/sibling_scripts.py: one module object per script file."""

import sys

import pytest


def test_scripts_and_tests_share_one_module_object(scripts):
    sibling_scripts = sys.modules["sibling_scripts"]
    fts = scripts("fetch_tuxpaint_sounds")
    deb = scripts("debian_packages")
    assert fts._deb is deb
    assert sibling_scripts.load_sibling("debian_packages") is deb
    assert sys.modules[sibling_scripts.MODULE_PREFIX + "debian_packages"] is deb
    assert fts.FetchError is deb.FetchError


def test_unknown_name_is_a_clear_error(scripts):
    with pytest.raises(FileNotFoundError, match=r"no script .*no_such_script\.py.*without \.py"):
        scripts("no_such_script")
    assert "_symscatter_data_scripts_no_such_script" not in sys.modules
