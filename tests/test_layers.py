"""The import contract: every app imports only from the layers below it.

Layers, bottom to top: the core (`allemaal`) < supply (`donations`) and demand (`helprequests`),
which never import each other < `refurbish` < `distribution` < `coordination` < `config`, the
composition root, which nothing imports. Every import statement counts: at module level, inside
a function, and `importlib.import_module("...")` with a literal name. Tests and migrations are
left out (a test may set up any app's data; a migration names the apps it depends on).

A side effect that must travel up is an event (`allemaal.events`) that the upper app subscribes
to in its `AppConfig.ready()`; a number shown upstream is a page of `coordination`.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each app with the apps it may import from (besides itself).
LAYERS = {
    "allemaal": set(),
    "donations": {"allemaal"},
    "helprequests": {"allemaal"},
    "refurbish": {"allemaal", "donations"},
    "distribution": {"allemaal", "donations", "helprequests", "refurbish"},
    "coordination": {"allemaal", "donations", "helprequests", "refurbish", "distribution"},
    "config": {
        "allemaal",
        "donations",
        "helprequests",
        "refurbish",
        "distribution",
        "coordination",
    },
}
LEFT_OUT = {"tests", "migrations", "__pycache__"}


def _sources(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts[:-1])
        if not parts & LEFT_OUT and not path.name.startswith("test_"):
            yield path


def _imported_modules(tree: ast.AST):
    """(line, dotted module name) of every absolute import in a module, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def wrong_way_imports() -> list[str]:
    """`file:line app -> module` for every import that points up a layer or sideways."""
    broken = []
    for app, allowed in LAYERS.items():
        for path in _sources(app):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for line, module in _imported_modules(tree):
                target = module.split(".")[0]
                if target in LAYERS and target != app and target not in allowed:
                    broken.append(f"{path.relative_to(ROOT)}:{line} {app} -> {module}")
    return broken


def test_no_app_imports_from_a_layer_above_it_or_from_its_sibling():
    broken = wrong_way_imports()
    assert not broken, "Imports that break the layers (README, 'How the code is laid out'):\n" + (
        "\n".join(broken)
    )


def test_the_contract_sees_imports_inside_functions_and_import_module(tmp_path):
    tree = ast.parse(
        "def f():\n"
        "    from distribution.services import x\n"
        "    importlib.import_module('coordination.views')\n"
    )
    assert [m for _, m in _imported_modules(tree)] == [
        "distribution.services",
        "coordination.views",
    ]


def test_every_app_of_ours_is_in_the_contract():
    from django.conf import settings

    ours = {app for app in settings.INSTALLED_APPS if "." not in app and (ROOT / app).is_dir()}
    assert ours == set(LAYERS), "a new app needs its place in LAYERS (and the README)"
