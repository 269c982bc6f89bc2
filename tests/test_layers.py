"""The floors for what import-linter cannot see: app.py and pages/ are Streamlit scripts, not packages.

pyproject's [tool.importlinter] contracts hold the packages (ui | api | cli -> campus_fer -> db ->
fer_core; no Streamlit, FastAPI or typer below the doors); here the pages may import ui and the
floors below it, never another door (api, cli), and every module left in ui/ is Streamlit-side.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
OTHER_DOORS = {"api", "cli", "pages", "app"}
STREAMLIT = {"streamlit", "streamlit_webrtc"}


def top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_pages_import_no_other_door():
    assert len(SCRIPTS) > 5
    crossing = {path.relative_to(ROOT).as_posix(): top_level_imports(path) & OTHER_DOORS for path in SCRIPTS}
    assert {name: doors for name, doors in crossing.items() if doors} == {}


def test_every_ui_module_is_streamlit_side():
    """A ui/ module that does not import Streamlit belongs in campus_fer (settings, figures, tables...)."""
    modules = [path for path in sorted((ROOT / "ui").glob("*.py")) if path.name != "__init__.py"]
    assert modules
    assert [path.name for path in modules if not top_level_imports(path) & STREAMLIT] == []
