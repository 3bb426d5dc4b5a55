"""What ships: the symbols of liblifeline.so, and what lifeline-server links.

    check_exports.py library NM liblifeline.so
        The dynamic symbols it defines are lifeline_* only (and the version
        node, LIFELINE_*), and its whole symbol table (local symbols too,
        unless the library is stripped) holds nothing of lifeline-server
        (srv_*), nothing of SendGrid and none of the tests' helpers.

    check_exports.py server NM lifeline-server liblifeline_notify.a liblifeline_proto.a
        The server defines no lifeline_* symbol (it does not link the client
        library), and every ll_* symbol it has comes from the two static
        libraries it shares with the client (src/notify, src/proto).
"""
import re
import subprocess
import sys

# Names only the tests may define: the server's prefix, the server's email
# channel, and the helpers that were once in the library for the tests.
FORBIDDEN = re.compile(
    r"^(srv_|SRV_)|sendgrid|^LLVMFuzzer|(^|_)(test|fuzz|mock|fake|inject)(_|$)"
    r"|^ll_(event|action)_name$",
    re.I)


def defined(nm, path, dynamic=False):
    """{name: type letter} of the symbols path defines."""
    args = [nm, "--defined-only"] + (["-D"] if dynamic else []) + [path]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0 and "no symbols" not in out.stderr:
        sys.exit(f"{' '.join(args)}: {out.stderr.strip()}")
    syms = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            name = parts[2].split("@")[0]
            syms[name.split(".")[0]] = parts[1]  # ll_x.part.0, .cold: ll_x
    return syms


def check_library(nm, lib):
    problems = []
    exported = defined(nm, lib, dynamic=True)
    for name, kind in sorted(exported.items()):
        if kind == "A" and name.startswith("LIFELINE_"):
            continue  # the version node of lifeline.map
        if not name.startswith("lifeline_"):
            problems.append(f"exported, not lifeline_*: {name}")
    if not exported:
        problems.append("no dynamic symbols at all")
    everything = defined(nm, lib)
    for name in sorted(everything):
        if FORBIDDEN.search(name):
            problems.append(f"in the library, and only the server or the tests should have it: {name}")
    return problems, (f"{len(exported)} exported, all lifeline_*; "
                      f"{len(everything) or 'no (stripped)'} symbols in all, none of the "
                      "server's or the tests'")


def check_server(nm, server, *archives):
    problems = []
    shared = {}
    for a in archives:
        shared.update(defined(nm, a))
    syms = defined(nm, server)
    for name in sorted(syms):
        if name.startswith("lifeline_"):
            problems.append(f"the server has the client library's {name}")
        elif name.startswith("ll_") and name not in shared:
            problems.append(f"the server has {name}, which is neither its own (srv_) nor "
                            "src/notify's or src/proto's")
    n_ll = sum(1 for n in syms if n.startswith("ll_"))
    return problems, f"no lifeline_* symbol; its {n_ll} ll_* symbols all from src/notify, src/proto"


def main():
    mode, nm, *paths = sys.argv[1:]
    problems, ok = check_library(nm, *paths) if mode == "library" else check_server(nm, *paths)
    for p in problems:
        print(p)
    print(f"{paths[0]}: " + (f"{len(problems)} problems" if problems else ok))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
