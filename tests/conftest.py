import os

# Tests must not depend on how many cores the machine has.
os.environ.setdefault("PYTHONHASHSEED", "0")

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=25)
settings.load_profile("default")

import pytest
import sklearn


@pytest.fixture(autouse=True)
def _sklearn_config_unchanged(request):
    """Fail the test that leaves scikit-learn's global config changed.

    Some third-party packages (skada) switch metadata routing on when first
    imported; a leaked setting silently changes every later test.
    """
    before = sklearn.get_config()
    yield
    after = sklearn.get_config()
    if after != before:
        sklearn.set_config(**before)
        changed = sorted(k for k in before if before[k] != after.get(k))
        pytest.fail(f"{request.node.nodeid} changed sklearn config: {changed}")
