"""What the console does not import before its first frame (issue 15: start to first machines on screen), each
checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_does_not_import_the_help_screen_before_it_is_asked_for() -> None:
    """Issue 15: the help screen (Textual's DataTable among its imports) is not on the path to the first frame."""
    probe = "import sys, console.app; print('console.screens.help' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
