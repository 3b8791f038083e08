"""The examples in docstrings are tests too: every module's doctests run and pass."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tenglong

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tenglong.__path__, "tenglong.")
    if ".migrations" not in m.name  # migration scripts run inside Alembic only
)


@pytest.mark.parametrize("name", MODULES)
def test_module_when_its_docstring_examples_run_they_pass(name):
    """``doctest`` finds no failing example in the module (modules without examples pass trivially)."""
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
