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


# ------------------------------------------------------------------------------ packaging

import shutil  # noqa: E402
import tomllib  # noqa: E402
import zipfile  # noqa: E402

import pytest  # noqa: E402

CODE_ROOTS = ("streams", "agents", "tables", "schemas", "scoring")


def test_every_code_package_is_in_pyproject():
    """pyproject lists its packages by name (two of them are mapped folders): none may be missing."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(REPO)).replace("/", ".")
             for root in CODE_ROOTS for p in (REPO / root).rglob("__init__.py")}
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


def test_no_truevoice_home():
    for path in ("Dockerfile", "docker-compose.yml", "README.md", "Makefile", "pyproject.toml"):
        assert "TRUEVOICE_HOME" not in (REPO / path).read_text(), path
    for root in CODE_ROOTS:
        for py in (REPO / root).rglob("*.py"):
            assert "TRUEVOICE_HOME" not in py.read_text(encoding="utf-8"), py


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """`pip wheel .` (offline: no build isolation) of a copy of the checkout (the shared tree gets no build/)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(tmp / "dist")], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    (whl,) = (tmp / "dist").glob("truevoice-*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_ships_sql_and_models_and_no_shadowing_package(wheel):
    names = set(wheel.namelist())
    sql = {n for n in names if n.endswith(".sql")}
    for p in (REPO / "clickhouse").rglob("*.sql"):
        assert f"tables/clickhouse/sql/{p.relative_to(REPO / 'clickhouse')}" in sql, p
    for model in ("sentiment", "toxicity", "intent", "purchase_intent"):
        for f in ("model.onnx", "model.json"):
            assert f"scoring/models/{model}/{f}" in names, (model, f)
    # neither the recipes nor training data
    assert not [n for n in names if n.startswith("scoring/models/") and n.endswith((".py", ".tsv", ".gz"))]
    assert not [n for n in names if "users.d" in n]
    # only our packages at the top level: no onnx/ or clickhouse/ shadowing the libraries
    top = {n.split("/", 1)[0] for n in names}
    assert top == {*CODE_ROOTS, "truevoice-0.1.0.dist-info"}
    # the package data the code reads
    for f in ("scoring/slang_ko.tsv", "scoring/lexicon_en.tsv", "streams/sample/mentions.jsonl.gz",
              *(f"tables/stopwords/{p.name}" for p in (REPO / "tables" / "stopwords").glob("*.txt"))):
        assert f in names, f
    meta = wheel.read("truevoice-0.1.0.dist-info/METADATA").decode()
    base = [line for line in meta.splitlines() if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not [line for line in base if any(x in line for x in ("chdb", "torch", "optimum"))], base
    assert any("chdb" in line and 'extra == "embedded"' in line for line in meta.splitlines())


def test_installed_wheel_finds_its_sql_and_models(wheel, tmp_path):
    target = tmp_path / "site"
    out = subprocess.run([sys.executable, "-m", "pip", "install", wheel.filename, "--no-deps", "--no-index", "-q",
                          "--target", str(target)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    code = ("import sys\n"
            "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
            "from tables.clickhouse.migrations import migrations_dir\n"
            "from scoring.text import default_model_root\n"
            "print(migrations_dir()); print(default_model_root())\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**__import__("os").environ, "PYTHONPATH": str(target)})
    assert res.returncode == 0, res.stderr
    sql_dir, model_root = res.stdout.split()
    assert sql_dir == str(target / "tables" / "clickhouse" / "sql")
    assert model_root == str(target / "scoring" / "models")
    assert (target / "scoring" / "models" / "sentiment" / "model.onnx").is_file()
    assert not (target / "onnx").exists() and not (target / "clickhouse").exists()
