"""The suite's own guard: a skipped test must fail the run (a backend left untested is not a pass)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_skipped_test_fails_the_run(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text("import pytest\n\ndef test_runs():\n    pass\n\ndef test_skips():\n    pytest.skip('no db')\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider", str(probe)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert "1 passed, 1 skipped" in result.stdout
    assert result.returncode == 1, result.stdout
    assert "skipped; every test must run" in result.stdout


def test_a_clean_run_passes(tmp_path):
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_runs():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider", str(probe)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout
