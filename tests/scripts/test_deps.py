"""scripts/deps and bench/run's install step, run against fake apt-get,
dpkg-query, sudo and id that record their arguments: what would be
installed, how, and as whom. Nothing is installed; the PATH the scripts see
holds the fakes and a few real tools only, so a real apt-get is never
reached."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "scripts" / "deps"
BENCH_RUN = ROOT / "bench" / "run"

# Each fake appends one line to $FAKE_LOG: its name, then its arguments,
# tab-separated. apt-get adds the DEBIAN_FRONTEND it sees.
FAKES = {
    "apt-get": r'''#!/bin/bash
printf 'apt-get' >>"$FAKE_LOG"
printf '\t%s' "$@" "DEBIAN_FRONTEND=${DEBIAN_FRONTEND-unset}" >>"$FAKE_LOG"
printf '\n' >>"$FAKE_LOG"
exit "${FAKE_APT_RC:-0}"
''',
    "dpkg-query": r'''#!/bin/bash
# dpkg-query -W -f='${Status}' PACKAGE: installed when listed in $FAKE_INSTALLED
pkg=${!#}
for p in $FAKE_INSTALLED; do
  if [ "$p" = "$pkg" ]; then printf 'install ok installed'; exit 0; fi
done
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
''',
    "sudo": r'''#!/bin/bash
printf 'sudo' >>"$FAKE_LOG"
printf '\t%s' "$@" >>"$FAKE_LOG"
printf '\n' >>"$FAKE_LOG"
# like sudo -E: run the command with this environment
[ "$1" = -E ] && shift
exec "$@"
''',
    "id": r'''#!/bin/bash
[ "$1" = -u ] && { echo "$FAKE_UID"; exit 0; }
echo "fake id: unexpected arguments: $*" >&2
exit 2
''',
    # bench/run builds after installing: stop it there
    "meson": r'''#!/bin/bash
printf 'meson\n' >>"$FAKE_LOG"
exit 1
''',
}
# the real tools the scripts may use besides the fakes
REAL_TOOLS = ["bash", "env", "grep", "dirname"]

# scripts/deps' list, in its order: what each test may leave missing
SOME = ["valgrind", "shellcheck", "netcat-openbsd"]


@pytest.fixture
def fake(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in FAKES.items():
        p = bin_dir / name
        p.write_text(text)
        p.chmod(0o755)
    for tool in REAL_TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "calls"

    def run(script, uid, missing, env=None):
        installed = [p for p in listed_packages() + EXTRA if p not in missing]
        full_env = {
            "PATH": str(bin_dir),
            "HOME": str(tmp_path),
            "FAKE_LOG": str(log),
            "FAKE_UID": str(uid),
            "FAKE_INSTALLED": " ".join(installed),
            "BENCH_BUILD": str(tmp_path / "build-bench"),
        }
        full_env.update(env or {})
        r = subprocess.run([str(script)], env=full_env, capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
        calls = [line.split("\t") for line in log.read_text().splitlines()] if log.exists() else []
        return r, calls

    return run


# bench/run's packages beyond scripts/deps' list
EXTRA = ["nodejs", "node-ws", "python3-matplotlib", "util-linux", "mosquitto", "libmosquitto-dev"]


def listed_packages():
    """The packages array of scripts/deps, as bash sees it."""
    text = DEPS.read_text()
    start = text.index("packages=(")
    end = text.index(")", start)
    r = subprocess.run(["bash", "-c", text[start:end + 1] + '\nprintf "%s\\n" "${packages[@]}"'],
                       capture_output=True, text=True, check=True)
    return r.stdout.split()


APT_UPDATE = ["apt-get", "update", "-qq", "DEBIAN_FRONTEND=noninteractive"]


def apt_install(packages):
    return ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages,
            "DEBIAN_FRONTEND=noninteractive"]


def test_the_list_has_what_ci_steps_need():
    for p in ("shellcheck", "netcat-openbsd", "valgrind", "libcmocka-dev", "python3-pytest"):
        assert p in listed_packages()


def test_as_root_apt_get_runs_directly(fake):
    r, calls = fake(DEPS, uid=0, missing=SOME)
    assert r.returncode == 0, r.stderr
    assert calls == [APT_UPDATE, apt_install(SOME)]
    assert "installing: valgrind shellcheck netcat-openbsd" in r.stdout


def test_as_a_user_apt_get_runs_through_sudo_keeping_the_environment(fake):
    r, calls = fake(DEPS, uid=1000, missing=SOME)
    assert r.returncode == 0, r.stderr
    assert calls == [
        ["sudo", "-E", *APT_UPDATE[:-1]], APT_UPDATE,
        ["sudo", "-E", *apt_install(SOME)[:-1]], apt_install(SOME),
    ]


@pytest.mark.parametrize("uid", [0, 1000])
def test_nothing_missing_runs_nothing(fake, uid):
    r, calls = fake(DEPS, uid=uid, missing=[])
    assert r.returncode == 0, r.stderr
    assert calls == []
    assert r.stdout == ""


def test_extra_packages_from_the_environment_are_installed_too(fake):
    r, calls = fake(DEPS, uid=0, missing=["valgrind", "nodejs"],
                    env={"LIFELINE_DEPS_EXTRA": "nodejs util-linux"})
    assert r.returncode == 0, r.stderr
    assert calls == [APT_UPDATE, apt_install(["valgrind", "nodejs"])]


def test_a_failed_install_fails_the_script(fake):
    r, calls = fake(DEPS, uid=0, missing=SOME, env={"FAKE_APT_RC": "100"})
    assert r.returncode != 0
    assert calls == [APT_UPDATE]


@pytest.mark.parametrize("uid, sudo", [(0, []), (1000, ["sudo", "-E"])])
def test_bench_run_installs_its_packages_the_same_way(fake, uid, sudo):
    missing = ["libwebsockets-dev", "nodejs", "python3-matplotlib"]
    r, calls = fake(BENCH_RUN, uid=uid, missing=missing)
    assert r.returncode != 0  # the fake meson stops it after the install
    apt = [c for c in calls if c[0] != "sudo"]
    assert apt == [APT_UPDATE, apt_install(missing), ["meson"]], r.stderr
    assert [c for c in calls if c[0] == "sudo"] == (
        [[*sudo, *APT_UPDATE[:-1]], [*sudo, *apt_install(missing)[:-1]]] if sudo else [])
