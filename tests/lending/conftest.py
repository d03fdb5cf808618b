import datetime as dt

import pytest

from lending import services as lending


def request_values(**overrides):
    """A valid request for 2 B200 from 2026-09-20 to 2026-11-19 (clock: 2026-09-10)."""
    values = {
        "gpu_model": "B200", "gpu_count": 2, "starts_on": dt.date(2026, 9, 20), "ends_on": dt.date(2026, 11, 19),
        "purpose": "Fine-tuning a Korean legal LLM", "expected_results": "A paper and an open model",
        "personal_information": "na", "training_data_copyright": "yes", "ai_basic_act": "yes",
        "accepts_recall_terms": True,
    }
    values.update(overrides)
    return values


@pytest.fixture
def submit(world, clock):
    def do(actor=None, **overrides):
        return lending.request_submit(actor=actor or world.applicant, values=request_values(**overrides))

    return do
