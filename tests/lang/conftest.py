"""Hypothesis profiles for the language tests.

"ci" (chosen when the CI environment variable is set) is derandomized so that a failure
reproduces exactly, and runs more examples; "dev" is quicker. Neither has a deadline: the time
of one example is not what these tests measure.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
