"""The command lines answer `--help`, a bad argument and an unknown experiment without importing torch (nor
torchvision, OpenCV, PyAV, numba, SciPy): those imports take seconds, the answers must not."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
HEAVY = ("torch", "torchvision", "cv2", "av", "numba", "scipy")
PROBE = """
import sys
import videoanalyst.{command} as command
for argv in {argvs!r}:
    try:
        command.main(argv)
    except SystemExit:
        pass
print("heavy:", [name for name in {heavy!r} if name in sys.modules])
"""


@pytest.mark.parametrize(
    ("command", "argvs"),
    [
        ("run", [["--help"], ["--bogus"], ["no/such.yaml"], ["--list"]]),
        ("track", [["--help"], ["--bogus"], ["--exp", "no_such"], ["--device", "bogus"], ["--init", "1,2"], ["--list"]]),
        ("evaluate", [["--help"], ["--bogus"], ["got10k", "--gt", ".", "--results", ".", "--exp", "no_such"],
                      ["got10k", "--gt", "no/such", "--results", "."], ["--list"]]),
        ("train", [["--help"], ["--bogus"], ["--exp", "no_such"], ["--exp", "siamfcpp_alexnet"]]),
    ],
)
def test_help_bad_arguments_and_unknown_names_import_nothing_heavy(command, argvs):
    probe = PROBE.format(command=command, argvs=argvs, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "heavy: []"
    assert "Traceback" not in result.stderr


def test_the_package_imports_its_names_on_first_use():
    probe = "import sys, videoanalyst; assert 'videoanalyst.core' not in sys.modules; print(videoanalyst.Pipeline)"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "Pipeline" in result.stdout, result.stderr
