import os

# Tests must not depend on how many cores the machine has.
os.environ.setdefault("PYTHONHASHSEED", "0")

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=25)
settings.load_profile("default")
