"""The repo's top-level folders never shadow the libraries they are named after."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_onnx_from_the_repo_root_is_the_onnx_library():
    out = subprocess.run([sys.executable, "-c", "import onnx; print(onnx.__file__, onnx.__version__)"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "site-packages" in out.stdout and str(REPO / "onnx") not in out.stdout


def test_model_and_sql_folders_hold_no_python_package():
    assert not (REPO / "onnx" / "__init__.py").exists()
    assert not (REPO / "clickhouse" / "__init__.py").exists()
    assert not list((REPO / "clickhouse").rglob("*.py"))
