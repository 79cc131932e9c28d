"""docs/screenshots.py (make screenshots) exists and stops at once, with a clear message
and a non-zero status, when the Chromium it is pointed at is missing. The browser run
itself is not repeated here: it is slow and its product is the PNGs in docs/."""

import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SCRIPT = BASE_DIR / "docs" / "screenshots.py"


def test_screenshots_script_fails_clearly_without_chromium(tmp_path):
    missing = tmp_path / "no-such-chromium"
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--chromium", str(missing), "--out", str(out)],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Chromium" in result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # nothing set up or written before the check


def test_screenshots_script_help_names_what_it_writes():
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "--chromium" in result.stdout
    assert "docs/screenshots" in result.stdout
