"""lifeline.pc asks for nothing but lifeline: the public header includes
only <stddef.h> and <stdint.h>, so `pkg-config --cflags --libs lifeline`
gives lifeline's own include folder and -llifeline, and works where the
-dev packages of libwebsockets, cJSON and libcurl are not installed (their
.pc files are hidden here: PKG_CONFIG_LIBDIR names our folders alone). The
shared library's dependencies are in Libs.private, for --static only.

    check_pkgconfig.py PKG_CONFIG BUILD_ROOT SOURCE_ROOT
"""
import os
import subprocess
import sys
from pathlib import Path

PRIVATE = ("-lwebsockets", "-lcjson", "-lcurl", "-lsqlite3")


def pkg_config(exe: str, pc_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PKG_CONFIG_PATH", None)
    env["PKG_CONFIG_LIBDIR"] = str(pc_dir)  # no system .pc file is found
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True)


def check(exe: str, pc_dir: Path, own: list, problems: list) -> None:
    r = pkg_config(exe, pc_dir, "--cflags", "--libs", "lifeline")
    if r.returncode != 0:
        problems.append(f"{pc_dir}: pkg-config failed: {r.stderr.strip()}")
        return
    flags = r.stdout.split()
    for f in flags:
        if f.startswith("-I") and not any(Path(f[2:]).resolve().is_relative_to(o) for o in own):
            problems.append(f"{pc_dir}: a foreign include folder: {f}")
        if f in PRIVATE:
            problems.append(f"{pc_dir}: {f} outside --static")
    if "-llifeline" not in flags:
        problems.append(f"{pc_dir}: no -llifeline in {r.stdout.strip()!r}")
    r = pkg_config(exe, pc_dir, "--static", "--libs", "lifeline")
    for f in PRIVATE:
        if f not in r.stdout.split():
            problems.append(f"{pc_dir}: --static --libs lacks {f}: {r.stdout.strip()!r}")
    for pc in pc_dir.glob("lifeline*.pc"):
        text = pc.read_text()
        if "URL:" in text or "Requires" in text:
            problems.append(f"{pc}: a URL or a Requires line:\n{text}")


def main() -> int:
    exe, build, source = sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve()
    problems: list = []
    # the uninstalled .pc (pkg-config prefers lifeline-uninstalled.pc)
    check(exe, build / "meson-uninstalled", [build, source], problems)
    # the one that is installed, as written (prefix and all)
    installed = build / "meson-private"
    prefix = pkg_config(exe, installed, "--variable=prefix", "lifeline").stdout.strip()
    check(exe, installed, [Path(prefix).resolve()] if prefix else [], problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
