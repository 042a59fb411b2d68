"""What the command lines share: SIGTERM handled as Ctrl-C, one `error:` line for bad input, the exit status, and
the `--list` output.

Kept free of heavy imports (torch, OpenCV, PyAV): `--help`, `--list` and argument errors answer at once.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping

from videoanalyst.errors import VideoAnalystError
from videoanalyst.interrupts import interrupt_status, terminate_as_interrupt

#: Exit status after bad input (an `error:` line), as argparse gives for bad arguments.
ERROR_STATUS = 2
_SENTENCE_END = re.compile(r"(?<=\.)\s")


def run_command(work: Callable[[], int], kept: str) -> int:
    """Run a command's work after its arguments are parsed; return the exit status.

    That is `work`'s own; 2 after bad input, printed as one ``error:`` line (and the notes saying where it
    happened) without a traceback; 130 after Ctrl-C and 143 after SIGTERM, which is handled as Ctrl-C, so the
    sinks close and what was written stays readable: ``interrupted: <kept>`` says what that is.
    """
    try:
        with terminate_as_interrupt():
            return work()
    except VideoAnalystError as error:
        print(f"error: {error}", *getattr(error, "__notes__", ()), sep="\n  ", file=sys.stderr)
        return ERROR_STATUS
    except KeyboardInterrupt as interrupt:
        print(f"interrupted: {kept}", file=sys.stderr)
        return interrupt_status(interrupt)


def print_listing(title: str, entries: Mapping[str, str]) -> None:
    """A `--list` section: the title, then one entry a line, its name and the first sentence of its description."""
    print(f"{title}:")
    width = max(map(len, entries), default=0)
    for name, description in entries.items():
        print(f"  {name:{width}s}  {_SENTENCE_END.split(description, maxsplit=1)[0]}".rstrip())
