"""`make profile-grade`'s timers: each part timed once however it nests, and every timed function put back."""
import asyncio
import time

from autograder import grading_steps
from autograder.profile_grading import PARTS, Timers, timed_parts


def test_a_timer_counts_a_call_once_even_when_it_calls_itself_again():
    timers = Timers()

    def restart(depth):
        time.sleep(0.05)
        return restart_timed(depth - 1) if depth else "done"
    restart_timed = timers.wrap(restart, "start")
    assert restart_timed(2) == "done"
    # three nested calls of 0.05 s: 0.15 s counted once, not 0.15 + 0.10 + 0.05
    assert 0.15 <= timers.seconds["start"] < 0.28


def test_a_timer_times_coroutines_and_calls_that_raise():
    timers = Timers()

    async def wait():
        await asyncio.sleep(0.05)

    def fail():
        time.sleep(0.05)
        raise ValueError("no")
    asyncio.run(timers.wrap(wait, "wait")())
    try:
        timers.wrap(fail, "fail")()
    except ValueError:
        pass
    assert 0.05 <= timers.seconds["wait"] < 0.2
    assert 0.05 <= timers.seconds["fail"] < 0.2


def test_every_part_is_timed_inside_and_put_back_after():
    before = {(where, attribute): getattr(profile_grading_target(where), attribute) for where, attribute, _ in PARTS}
    steps = grading_steps.STEPS
    with timed_parts(Timers()):
        for where, attribute, _ in PARTS:
            assert getattr(profile_grading_target(where), attribute) is not before[(where, attribute)], attribute
        assert grading_steps.STEPS != steps and len(grading_steps.STEPS) == len(steps)
        assert [step.__name__ for step in grading_steps.STEPS] == [step.__name__ for step in steps]
    for where, attribute, _ in PARTS:
        assert getattr(profile_grading_target(where), attribute) is before[(where, attribute)], attribute
    assert grading_steps.STEPS is steps


def profile_grading_target(where):
    import importlib
    module, _, owner = where.partition(":")
    target = importlib.import_module(module)
    return getattr(target, owner) if owner else target


def test_the_profile_names_each_step_of_grading_steps():
    labelled = {attribute for where, attribute, _ in PARTS if where == "autograder.grading_steps"}
    # autograde_and_check is timed as its two halves, nbgrader's run and the hidden checks
    assert {step.__name__ for step in grading_steps.STEPS} - {"autograde_and_check"} <= labelled
    assert {"autograde", "run_hidden_checks"} <= {attribute for _, attribute, _ in PARTS}
