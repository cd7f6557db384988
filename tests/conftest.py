"""Hypothesis profiles: ``make test`` is derandomized, so CI replays exactly the examples a
local run tried; ``make test-slow`` explores with fresh random examples."""

import os

from hypothesis import settings

settings.register_profile("gate", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("CRM_HYPOTHESIS_PROFILE", "gate"))
