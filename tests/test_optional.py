"""Optional extras: a feature whose package is missing says which extra installs it."""

import pytest

import taskkit
from taskkit._optional import require


def test_a_missing_package_names_the_extra_and_is_an_import_error():
    with pytest.raises(taskkit.MissingExtraError) as missing:
        require("no_such_package_xyz.sub", extra="report", feature="the report")
    assert str(missing.value) == (
        "the report needs no_such_package_xyz, which is not installed: "
        "pip install 'taskkit[report]' (or 'taskkit[all]')"
    )
    assert isinstance(missing.value, ImportError)  # `except ImportError` code keeps working


def test_an_installed_package_is_returned():
    assert require("json", extra="report", feature="x").__name__ == "json"
