"""Screens first (tower.foreground): a background job starts once no screen has drawn for a lull,
never waits longer than its limit, and a screen that runs background work inline never waits."""
from __future__ import annotations

import threading
import time

from tests.screens import DrawingScreen
from tower import foreground
from tower.foreground import Foreground


def test_with_no_screen_drawing_a_background_job_starts_at_once():
    assert Foreground(quiet_s=0.05, max_wait_s=5).wait_quiet() < 0.05


def test_a_background_job_starts_a_lull_after_the_last_screen_stops_drawing(monkeypatch):
    fg = Foreground(quiet_s=0.2, max_wait_s=10)
    monkeypatch.setattr(foreground, "shared", fg)
    first, second = DrawingScreen().start(), DrawingScreen().start()
    started = []
    job = threading.Thread(target=lambda: (fg.wait_quiet(), started.append(time.monotonic())))
    job.start()
    time.sleep(0.3)
    first.stop()                      # one screen done, the other still drawing
    time.sleep(0.3)
    assert not started, "the job started while a screen was drawing"
    second.stop()
    job.join(5)
    assert started and started[0] >= second.ended_at + 0.2 - 0.01
    assert started[0] < second.ended_at + 1.0
    assert fg.waited_s >= 0.8


def test_a_screen_that_never_stops_drawing_holds_a_background_job_back_at_most_max_wait(monkeypatch):
    fg = Foreground(quiet_s=0.05, max_wait_s=0.3)
    monkeypatch.setattr(foreground, "shared", fg)
    screen = DrawingScreen().start()
    try:
        waited = fg.wait_quiet()
        assert 0.3 <= waited < 1.0
    finally:
        screen.stop()


def test_a_screen_running_background_work_inline_does_not_wait_for_itself():
    fg = Foreground(quiet_s=0.05, max_wait_s=5)
    with fg.drawing():
        assert fg.wait_quiet() < 0.05
    assert fg.wait_quiet() < 0.2      # and once it is done, others wait only the lull
