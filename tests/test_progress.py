"""Progress of long loops (darkscan.progress): bars at a terminal, throttled log lines in jobs."""

from __future__ import annotations

import logging

import pytest

from darkscan import progress


@pytest.fixture
def in_a_job():
    progress.use_log_lines()
    yield
    progress.use_log_lines(False)


def _clock(times):
    it = iter(times)
    return lambda: next(it)


def test_a_job_logs_whole_lines_at_most_once_per_interval(in_a_job, caplog):
    # start at 0, then one reading after each of 5 items: 10, 50, 70, 130, 140 s; one at the end
    clock = _clock([0.0, 10.0, 50.0, 70.0, 130.0, 140.0, 141.0])
    with caplog.at_level(logging.INFO, logger="darkscan.progress"):
        assert list(progress.progress(range(5), desc="ch/eemumu", unit="chunk", every=60.0, clock=clock)) == [
            0,
            1,
            2,
            3,
            4,
        ]
    assert [r.getMessage() for r in caplog.records] == [
        "ch/eemumu: 3/5 chunk (60%), 70 s, about 47 s left",
        "ch/eemumu: 4/5 chunk (80%), 130 s, about 32 s left",  # 60 s after the last line
        "ch/eemumu: 5 chunk, finished in 141 s",
    ]
    assert "\r" not in caplog.text  # no bar fragments in the log


def test_a_short_loop_in_a_job_is_silent(in_a_job, caplog):
    with caplog.at_level(logging.INFO, logger="darkscan.progress"):
        list(progress.progress([1, 2, 3], desc="quick", unit="chunk", clock=_clock([0.0, 1.0, 2.0, 3.0])))
    assert caplog.records == []


def test_without_a_terminal_no_bar_is_drawn(capsys):
    assert list(progress.progress(range(3), desc="x", unit="chunk")) == [0, 1, 2]  # pytest's stderr is no tty
    assert capsys.readouterr().err == ""
