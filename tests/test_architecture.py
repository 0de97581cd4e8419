"""The package's shape: layers import downward only, no cycles, one public surface.

The import graph is read from the source (every `import` and `from ... import`, at
module level or inside a function), so a deferred import counts like any other.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import cimjax

ROOT = Path(cimjax.__file__).resolve().parent

# Bottom to top. A module may import from its own package and from any layer below
# its own; packages that share a layer may not import each other.
LAYERS = (
    ("cimjax.errors",),
    ("cimjax._io",),
    ("cimjax.device",),
    ("cimjax.kernels",),
    ("cimjax.crossbar",),
    ("cimjax.nn",),
    ("cimjax.sde",),
    ("cimjax.trng", "cimjax.energy"),
    ("cimjax.apps",),
    ("cimjax.cli",),
    ("cimjax.__main__",),
)
# The kernels are a leaf: hashing and the masked product, nothing of the device or crossbar.
LEAVES = {"cimjax.kernels": ("cimjax.errors", "cimjax._io")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in ROOT.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The cimjax module an import names (a `from pkg import mod` names the module)."""
    return name if name in MODULES else None


def _imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in map(_resolve, found) if m and m != module}


GRAPH = {m: _imports(m) for m in MODULES}


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:3]) if parts[1:2] == ["apps"] and len(parts) > 2 else ".".join(parts[:2])


def _layer(module: str) -> int:
    for i, names in enumerate(LAYERS):
        if any(module == n or module.startswith(n + ".") for n in names):
            return i
    raise AssertionError(f"{module} is in no layer of LAYERS")


def test_every_module_has_a_layer():
    for module in MODULES:
        if module != "cimjax":
            _layer(module)


def test_imports_run_downward_only():
    wrong = []
    for module, deps in GRAPH.items():
        if module == "cimjax":
            continue
        for dep in deps:
            if dep == "cimjax":
                wrong.append(f"{module} -> the root package (import the layer itself)")
            elif _package(dep) == _package(module):
                continue
            elif _layer(dep) >= _layer(module):
                wrong.append(f"{module} -> {dep}")
            elif _package(module) in LEAVES and not dep.startswith(LEAVES[_package(module)]):
                wrong.append(f"{module} -> {dep} (a leaf may import only {LEAVES[_package(module)]})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(sorted(wrong))


def test_no_import_cycles():
    state: dict[str, int] = {}
    cycles = []

    def visit(module, path):
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_lazy_reexports_below_the_root():
    lazy = [m for m, p in MODULES.items() if m != "cimjax"
            and any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in ast.parse(p.read_text()).body)]
    assert not lazy, f"module-level __getattr__ in {lazy}"


def test_private_modules_behind_public_packages():
    """Every module file but `__init__`, `__main__` and `errors` is private (`_name.py`)."""
    public = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
              if not p.name.startswith("_") and p.name != "errors.py"]
    assert not public, f"public module files: {public}"


def test_the_root_api_names_only_library_layers():
    for name, module in cimjax._API.items():
        assert not module.startswith(("cimjax.apps", "cimjax.cli")), (name, module)
        assert getattr(__import__(module, fromlist=[name]), name) is getattr(cimjax, name)


def test_core_names_are_on_the_root():
    import cimjax as cj
    from cimjax.crossbar import CrossbarConfig, crossbar_matmul, crossbar_moments
    from cimjax.nn import CrossbarDense, fit, mc_predict
    from cimjax.sde import VPSDE, sample_reverse

    assert cj.CrossbarConfig is CrossbarConfig and cj.crossbar_matmul is crossbar_matmul
    assert cj.crossbar_moments is crossbar_moments and cj.CrossbarDense is CrossbarDense
    assert cj.fit is fit and cj.mc_predict is mc_predict
    assert cj.VPSDE is VPSDE and cj.sample_reverse is sample_reverse
    assert cj.device.DataBit and cj.trng.run_nist and cj.energy.figures
    assert set(cimjax.__all__) >= {"CrossbarConfig", "device", "trng", "energy", "CimjaxError"}
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        cj.not_a_name  # noqa: B018


def test_no_public_name_means_two_things():
    """A name exported by two packages is the same object in both."""
    import importlib

    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for module in sorted(m for m in MODULES if m.count(".") <= 2 and MODULES[m].name == "__init__.py"):
        mod = importlib.import_module(module)
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if name in seen and seen[name][1] is not obj:
                clashes.append(f"{name}: {seen[name][0]} and {module}")
            seen.setdefault(name, (module, obj))
    assert not clashes, "names that mean two things:\n" + "\n".join(clashes)


def test_building_the_parser_loads_no_jax():
    code = ("import sys, cimjax.cli; cimjax.cli.build_parser(); "
            "heavy = [m for m in ('jax', 'flax', 'optax', 'matplotlib', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
