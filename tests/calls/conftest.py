from tests.lending.conftest import submit  # noqa: F401 (the lending tests' fixture)
