"""The labs' one setting, ACTLAB_SIZE: read in one place, refused with the choices when misspelt, and given to
the processes that run student code without being set in the grader's own environment."""
import os

import pytest

from actlab import device, settings
from autograder import course
from autograder.proxy import StudentCode


def test_the_size_is_full_unless_set_and_a_misspelt_size_names_the_choices(monkeypatch):
    monkeypatch.delenv(settings.VARIABLE, raising=False)
    assert settings.lab_size_setting() == "full" and not device.smoke_test()
    monkeypatch.setenv(settings.VARIABLE, "smoke")
    assert device.smoke_test()
    monkeypatch.setenv(settings.VARIABLE, "1")
    with pytest.raises(ValueError, match="ACTLAB_SIZE='1' is not a lab size: use one of full, smoke"):
        device.smoke_test()
    with pytest.raises(ValueError, match="not a lab size"):
        settings.environment("tiny")


def test_student_code_runs_at_the_smoke_size_though_the_grader_does_not(monkeypatch):
    monkeypatch.delenv(settings.VARIABLE, raising=False)
    cell = "import os\ndef size():\n    return os.environ.get('ACTLAB_SIZE', 'unset')"
    with StudentCode([("1", cell)]) as code:
        assert code.size() == "smoke"
    assert settings.VARIABLE not in os.environ and course.GRADING_ENV == {"ACTLAB_SIZE": "smoke"}
