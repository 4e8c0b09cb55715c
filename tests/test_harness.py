"""The test harness itself fails loudly instead of passing by skipping."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_skipped_test_fails_the_run(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("import pytest\n\ndef test_skipped():\n    pytest.skip('no browser')\n\n"
                      "def test_passing():\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:odoo",
         "-p", "tests.noskip", "-q", str(sample)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipping is not allowed" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("1 passed, 1 skipped")


def test_runner_without_odoo_fails_with_clear_message():
    # -S: no site-packages, so this interpreter cannot import Odoo.
    result = subprocess.run(
        [sys.executable, "-S", str(ROOT / "scripts" / "run_tests.py")],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert result.returncode != 0
    assert "cannot import Odoo" in result.stderr
    assert "make setup" in result.stderr


def test_every_odoo_test_module_is_imported_by_the_package():
    """`odoo --test-enable` (runbot-style CI) runs only the test modules the package imports;
    pytest finds the files by name. A module missing from tests/__init__.py runs under one only."""
    for addon in ("cobranza_mgmt", "cobranza_mgmt_sale"):
        package = ROOT / "addons" / addon / "tests"
        imported = package.joinpath("__init__.py").read_text(encoding="utf-8")
        for module in sorted(package.glob("test_*.py")):
            assert f"from . import {module.stem}\n" in imported, f"{addon}/tests/__init__.py lacks {module.stem}"
