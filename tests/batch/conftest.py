"""Hypothesis profiles for the batch and codec tests (the approach of tests/lang/conftest.py).

"ci" (chosen when the CI environment variable is set) is derandomized so that a failure
reproduces exactly; "dev" is quicker. Each example builds whole OTLP requests with the official
classes, so the counts are lower than the language tests' to keep the suite's time reasonable. No deadlines: example time is not what these measure.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "batch-ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "batch-dev",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("batch-ci" if os.environ.get("CI") else "batch-dev")
