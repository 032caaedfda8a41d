import os

import pytest

# Imports need no path set-up here: pytest.ini's `pythonpath` adds the repository root (autograder) and tests/
# (helpers), and the course's environment installs actlab (`pip install -e .`, the Makefile).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Every test file belongs to one layer (a marker of the same name: `pytest -m unit`).
LAYERS = {
    "unit": ["test_codec.py", "test_worker_protocol.py", "test_sandbox.py", "test_settings.py", "test_grade_cache.py",
             "test_probes.py", "test_checks_structure.py", "test_library_has_no_answers.py", "test_gpu.py",
             "test_layers.py", "test_checking.py", "test_misconceptions.py", "test_diagnostics.py", "test_progress.py",
             "test_profile_grading.py", "test_execution_cache.py"],
    "checks": ["test_hidden_checks.py", "test_hidden_checks_isolation.py", "test_visible_tests.py", "test_check_weights.py",
               "test_hidden_checks_activations.py", "test_hidden_checks_backprop.py", "test_hidden_checks_derivatives.py",
               "test_hidden_checks_neuron.py", "test_hidden_checks_nonfinite.py", "test_hidden_checks_lab_autograd.py",
               "test_hidden_checks_lab_dying_relu.py", "test_hidden_checks_lab_gradient_flow.py",
               "test_hidden_checks_lab_shootout.py", "test_hidden_checks_lab_speed.py"],
    "grading": ["test_release.py", "test_assignments.py", "test_grading.py", "test_report.py", "test_attacks.py",
                "test_stopping.py", "test_postgres_gradebook.py", "test_nbgrader_cycle.py", "test_dask_grading.py"],
    "book": ["test_book.py", "test_book_content.py", "test_labs_run.py", "test_student_kit.py", "test_wheel.py",
             "test_explorer.py"],
}
LAYER_OF = {name: layer for layer, names in LAYERS.items() for name in names}

# `make test` runs the suite in two processes (pytest-xdist, --dist loadgroup). A file's tests stay in one
# process, so that its expensive module fixtures (a book build, a graded class, a student's environment) are
# made once; the tests of these files, independent and many, are spread over both.
SPREAD = {"test_hidden_checks_isolation.py", "test_visible_tests.py", "test_hidden_checks_activations.py",
          "test_hidden_checks_backprop.py", "test_hidden_checks_derivatives.py", "test_hidden_checks_neuron.py",
          "test_hidden_checks_lab_autograd.py", "test_hidden_checks_lab_dying_relu.py",
          "test_hidden_checks_lab_gradient_flow.py", "test_hidden_checks_lab_shootout.py",
          "test_hidden_checks_lab_speed.py", "test_release.py", "test_assignments.py", "test_library_has_no_answers.py",
          "test_worker_protocol.py"}


# The files that take longest, longest first: `make test` (pytest-xdist with --no-loadscope-reorder) hands out
# work in collection order, so these start first and the last tests to start are short ones, and both processes
# finish together.
SLOWEST_FIRST = ["test_book.py", "test_attacks.py", "test_stopping.py", "test_dask_grading.py", "test_grading.py",
                 "test_labs_run.py", "test_student_kit.py", "test_postgres_gradebook.py", "test_nbgrader_cycle.py",
                 "test_report.py", "test_hidden_checks_lab_shootout.py", "test_hidden_checks_lab_gradient_flow.py",
                 "test_hidden_checks_isolation.py", "test_hidden_checks_lab_dying_relu.py",
                 "test_hidden_checks_lab_speed.py", "test_hidden_checks.py", "test_hidden_checks_derivatives.py"]


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = LAYER_OF.get(item.path.name)
        if layer is None:
            raise pytest.UsageError(f"tests/{item.path.name} is in no layer: add it to LAYERS in tests/conftest.py")
        item.add_marker(layer)
        if item.path.name not in SPREAD:
            item.add_marker(pytest.mark.xdist_group(item.path.name))
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
