"""Fixtures shared by the test files."""
import pytest

from ember import _core


@pytest.fixture
def restore_threads():
    """Lets a test change the thread count; restores it afterwards."""
    before = _core.get_num_threads()
    yield
    _core.set_num_threads(before)
