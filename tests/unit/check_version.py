"""The version is written once, project(version:) in meson.build. What is
made from it and the one copy meson cannot write (the Python binding's
__version__, which pyproject.toml reads) must say the same.

    check_version.py VERSION GENERATED_VERSION_H SOURCE_ROOT
"""
import ast
import re
import sys
import tomllib
from pathlib import Path


def header_macros(path: Path) -> dict:
    text = path.read_text()
    return dict(re.findall(r'^#define (LIFELINE_VERSION_\w+) +("?[\w.]+"?)$', text, re.M))


def python_version(init: Path) -> str:
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            return ast.literal_eval(node.value)
    return "(no __version__)"


def main() -> int:
    version, version_h, root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    major, minor, patch = version.split(".")
    problems = []

    want = {"LIFELINE_VERSION_MAJOR": major, "LIFELINE_VERSION_MINOR": minor,
            "LIFELINE_VERSION_PATCH": patch, "LIFELINE_VERSION_STRING": f'"{version}"'}
    got = header_macros(version_h)
    for name, value in want.items():
        if got.get(name) != value:
            problems.append(f"{version_h}: {name} is {got.get(name)}, meson.build says {value}")

    # lifeline.h takes them from the generated header only
    public = (root / "include/lifeline/lifeline.h").read_text()
    for name in want:
        if re.search(rf"^#define {name}\b", public, re.M):
            problems.append(f"include/lifeline/lifeline.h defines {name} itself")

    init = root / "bindings/python/src/lifeline/__init__.py"
    if python_version(init) != version:
        problems.append(f"{init}: __version__ is {python_version(init)}, meson.build says {version}")
    project = tomllib.loads((root / "bindings/python/pyproject.toml").read_text())["project"]
    if "version" in project and project["version"] != version:
        problems.append(f"bindings/python/pyproject.toml: version is {project['version']}, "
                        f"meson.build says {version}")
    elif "version" not in project and "version" not in project.get("dynamic", []):
        problems.append("bindings/python/pyproject.toml: no version")

    for p in problems:
        print(p)
    print(f"version {version}: " + ("MISMATCH" if problems else "generated header and Python binding agree"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
