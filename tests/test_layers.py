"""The package's structure: one namespace, imports that only point down, a CLI that starts light."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Folders at the top of the repository and the package each installs as.
FOLDERS = {
    "wirewatch": "wirewatch",
    "flows": "wirewatch.flows",
    "extractors": "wirewatch.extractors",
    "dedup": "wirewatch.dedup",
    "alerts": "wirewatch.alerts",
    "store": "wirewatch.store",
    "fetch": "wirewatch.fetch",
    "web": "wirewatch.web",
    "exports": "wirewatch.exports",
    "watchlists": "wirewatch.watchlists",
}
GROUND = {
    "wirewatch.records",
    "wirewatch.errors",
    "wirewatch.timeutil",
    "wirewatch.settings",
    "wirewatch.query",
}
PARTS = ("fetch", "extractors", "dedup", "alerts", "store", "watchlists")
# What each layer may import besides itself; the CLI, the web page and exports (the top) may
# import anything.
ALLOWED = {
    "ground": {"ground"},
    "config": {"ground"},
    **{part: {"ground"} for part in PARTS},
    "demo": {"ground", "config"},
    "flows": {"ground", "config", "demo", *PARTS},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


def _layer(module: str) -> str:
    if module in GROUND:
        return "ground"
    if module == "wirewatch.config":
        return "config"
    if module == "wirewatch.demo_server" or module.startswith("wirewatch.demo."):
        return "demo"
    second = module.split(".")[1] if "." in module else ""
    if second in PARTS or second == "flows":
        return second
    return "top"


def _imports(path: Path, module: str) -> set[str]:
    """Every wirewatch module a file imports, at its top or inside a function."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
    return {n for n in names if n == "wirewatch" or n.startswith("wirewatch.")}


def test_every_import_points_down_the_layers() -> None:
    modules = _modules()
    assert "wirewatch.store.database" in modules and "wirewatch.cli" in modules
    wrong = []
    for module, path in modules.items():
        mine = _layer(module)
        if mine == "top":
            continue
        for target in sorted(_imports(path, module)):
            theirs = _layer(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_layer_check_sees_a_wrong_direction(tmp_path: Path) -> None:
    # The walk must see imports inside functions, where a shortcut upward would hide.
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from wirewatch.flows.pipeline import run_flow\n")
    assert _layer("wirewatch.fetch.probe") == "fetch"
    assert "wirewatch.flows.pipeline" in _imports(probe, "wirewatch.fetch.probe")
    assert "flows" not in ALLOWED["fetch"]


def test_help_loads_neither_numpy_nor_datasketch_nor_prefect() -> None:
    code = (
        "import sys\n"
        "from wirewatch.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'datasketch', 'prefect') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_flow_loads_datasketch_without_scipy_integrate() -> None:
    """Each served run imports the flow in a new process: datasketch's LSH classes would bring in
    scipy.integrate (0.6-0.7 s on 2 cores) for a band search wirewatch never runs. datasketch's
    own MinHashLSH must still choose its bands as usual once something asks for them."""
    code = (
        "import sys\n"
        "import wirewatch.flows.pipeline\n"
        "print('datasketch' in sys.modules, 'scipy.integrate' in sys.modules)\n"
        "from datasketch import MinHashLSH\n"
        "lsh = MinHashLSH(threshold=0.6, num_perm=128)\n"
        "import scipy.integrate\n"
        "print(lsh.b, lsh.r, callable(scipy.integrate.dblquad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, bands = done.stdout.strip().splitlines()
    assert loaded == "True False"
    assert bands == "18 7 True"  # what datasketch chooses with scipy.integrate imported first


def test_a_datasketch_wanting_more_of_scipy_integrate_still_imports(tmp_path: Path) -> None:
    # A later datasketch may import more from scipy.integrate than quad: it must get the real one.
    (tmp_path / "later_sketches.py").write_text("from scipy.integrate import dblquad, quad\n")
    code = (
        "import sys\n"
        "from wirewatch.dedup.minhash_classes import import_sparing_integrate\n"
        "import_sparing_integrate('later_sketches')\n"
        "import later_sketches\n"
        "print(later_sketches.dblquad.__module__, later_sketches.quad.__module__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert done.stdout.split() == ["scipy.integrate._quadpack_py"] * 2


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: setuptools leaves a build/ folder behind, whose stale files a later
    # build would package.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "-w", str(out), str(source)], check=True, capture_output=True)
    return next(out.glob("wirewatch-*.whl"))


def test_the_wheel_installs_only_wirewatch_at_the_top(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"wirewatch"}
    # Package data travels under the namespace too: the page's templates, the demo corpus.
    assert "wirewatch/web/templates/cluster.html" in names
    assert any(n.startswith("wirewatch/demo/pages/") for n in names)
    assert "wirewatch/py.typed" in names


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel unpacked as pip lays it out in site-packages."""
    target = tmp_path_factory.mktemp("site")
    zipfile.ZipFile(wheel).extractall(target)
    return target


def test_the_installed_package_type_checks(installed: Path, tmp_path: Path) -> None:
    # mypy maps module names to folders, so it checks the layout pip installs (wirewatch/flows/,
    # ...), not the repository's; the benchmarks import the package and are checked with it.
    shutil.copytree(ROOT / "benchmarks", tmp_path / "benchmarks")
    for package in installed.iterdir():
        (tmp_path / package.name).symlink_to(package)
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    done = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / ".mypy_cache"), "-p", "wirewatch", "-p", "benchmarks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "Success" in done.stdout


def test_the_installed_wheel_runs_without_the_repository(installed: Path, tmp_path: Path) -> None:
    target = installed
    code = (
        "import sys, wirewatch, wirewatch.flows.pipeline, wirewatch.web.app\n"
        "from wirewatch.config import demo_config_path\n"
        "assert wirewatch.__file__.startswith(sys.argv[1]), wirewatch.__file__\n"
        "assert wirewatch.flows.pipeline.__file__.startswith(sys.argv[1])\n"
        "assert demo_config_path().is_file()\n"
        "print(wirewatch.web.app.log.name)\n"
    )
    # Run outside the repository, the unpacked wheel first on the path.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {str(target)!r}); exec({code!r})",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wirewatch.web.app"
