"""Progress: a line every `interval` seconds off a terminal (on a fake clock), a tqdm bar on one."""

import io

import pytest

from videoanalyst.pipeline.progress import Progress, format_duration


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_a_line_every_interval_with_fps_and_eta():
    clock, log = Clock(), io.StringIO()
    progress = Progress(5000, interval=30.0, file=log, clock=clock)
    clock.now += 10
    progress.update(400)
    assert log.getvalue() == ""  # nothing before the first interval: a short run stays quiet
    clock.now += 20
    progress.update(834)  # 1234 frames in 30 s
    assert log.getvalue() == "progress: 1234/5000 frames (24.7 %), 41.1 fps, eta 1m32s\n"
    clock.now += 29
    progress.update(10)
    assert log.getvalue().count("\n") == 1  # 29 s since the last line
    clock.now += 1
    progress.update(10)
    assert log.getvalue().splitlines()[-1].startswith("progress: 1254/5000 frames (25.1 %)")
    progress.close()


def test_unknown_total_a_description_and_a_grown_total():
    clock, log = Clock(), io.StringIO()
    progress = Progress(description="MOT17-02", interval=0, file=log, clock=clock)
    clock.now += 2
    progress.update(50)
    progress.grow_total(200)
    clock.now += 2
    progress.update(50)
    assert log.getvalue().splitlines() == [
        "progress: MOT17-02: 50 frames, 25.0 fps",
        "progress: MOT17-02: 100/200 frames (50.0 %), 25.0 fps, eta 4s",
    ]


def test_a_terminal_gets_a_bar_and_no_lines():
    terminal = Terminal()
    with Progress(10, description="seq", interval=0, file=terminal) as progress:
        progress.update(3)
        assert progress.done == 3
    assert "seq" in terminal.getvalue() and "/10" in terminal.getvalue()
    assert "progress:" not in terminal.getvalue()


def test_disabled_writes_nothing():
    for file in (io.StringIO(), Terminal()):
        with Progress(10, enabled=False, interval=0, file=file) as progress:
            progress.update(5)
        assert file.getvalue() == ""


def test_a_negative_interval_is_refused():
    with pytest.raises(ValueError, match="progress interval must be >= 0 seconds, got -1"):
        Progress(10, interval=-1)


@pytest.mark.parametrize("seconds, text", [(0.4, "0s"), (7, "7s"), (91, "1m31s"), (3599, "59m59s"),
                                           (7500, "2h05m")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
