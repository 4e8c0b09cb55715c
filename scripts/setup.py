#!/usr/bin/env python3
"""make setup: everything `make run` and `make test` need, on a fresh machine.

1. System packages (apt, when run as root): PostgreSQL, wkhtmltopdf, chromium, and the
   headers psycopg2 builds against; then the local PostgreSQL cluster is started and the
   project's role (PGUSER, default odoo, with CREATEDB) created.
2. A project-local virtual environment `.venv` with Odoo 18.0 Community from ODOO_SOURCE
   and the project's Python packages.

ODOO_SOURCE is an unpacked Odoo source tree, a .tar.xz/.tar.gz archive of one, or a git URL.
Default: the newest ../shared/odoo/odoo-*.tar.xz when there is one (checked against the
SHA256SUMS beside it), else a shallow clone of the official repository's 18.0 branch.

Safe to run again: when `.venv` was built from the same source and requirements it is kept
(seconds). A new environment is built beside the current one (`.venvs/`) and `.venv` is
switched to it only once it works, so a failed build leaves the previous one untouched.
Standard library only: it runs before any environment exists.
"""
import argparse
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pglocal

ROOT = Path(__file__).resolve().parent.parent
SHARED_ODOO = ROOT.parent / "shared" / "odoo"
OFFICIAL_GIT = "https://github.com/odoo/odoo"
BRANCH = "18.0"
# Bump when the way the environment is built changes, so existing ones are rebuilt.
RECIPE = 1
GIT_PREFIXES = ("http://", "https://", "git://", "ssh://", "git@", "file://")
ARCHIVE_SUFFIXES = (".tar.xz", ".txz", ".tar.gz", ".tgz")
# Odoo's pins that do not install on this Python, and what to use instead.
REQUIREMENT_FIXES = [
    # cbor2 5.4.2 has no wheel for 3.11 and its sdist no longer builds; 5.4.6 is compatible.
    (re.compile(r"^cbor2==5\.4\.2\b"), "cbor2==5.4.6"),
    # python-ldap only serves auth_ldap, needs the LDAP/SASL headers and is left out.
    (re.compile(r"^python-ldap\b"), None),
]
# command on PATH (or file) -> Debian package that provides it
SYSTEM_NEEDS = [
    ("pg_ctlcluster", "postgresql"),
    ("pg_isready", "postgresql-client"),
    ("wkhtmltopdf", "wkhtmltopdf"),
    ("chromium", "chromium"),
    ("pg_config", "libpq-dev"),  # psycopg2 is built from source on Python 3.11
    ("gcc", "gcc"),
]


class SetupError(Exception):
    """One line: what is wrong and what to do."""


def say(message):
    print(f"[setup] {message}", flush=True)


@contextmanager
def step(title):
    say(f"{title} ...")
    started = time.monotonic()
    yield
    say(f"{title}: done in {time.monotonic() - started:.1f} s")


# ---------------------------------------------------------------- the Odoo source

class Source:
    def __init__(self, kind, location):
        self.kind = kind  # "dir", "archive" or "git"
        self.location = location

    def __repr__(self):
        return f"Source({self.kind!r}, {str(self.location)!r})"


def default_source():
    archives = sorted(SHARED_ODOO.glob("odoo-*.tar.xz"))
    return str(archives[-1]) if archives else OFFICIAL_GIT


def odoo_version(tree):
    """(major, minor) that an Odoo source tree declares, or None when it is not one."""
    release = Path(tree) / "odoo" / "release.py"
    if not release.is_file():
        return None
    match = re.search(r"^version_info\s*=\s*\((\d+),\s*(\d+)", release.read_text(), re.M)
    return (int(match.group(1)), int(match.group(2))) if match else None


def resolve_source(value):
    """What ODOO_SOURCE names: Source('dir' | 'archive' | 'git', location)."""
    value = (value or "").strip() or default_source()
    if value.startswith(GIT_PREFIXES) or value.endswith(".git"):
        return Source("git", value)
    path = Path(value).expanduser().resolve()
    if not path.exists():
        raise SetupError(
            f"ODOO_SOURCE {value} does not exist: give an Odoo 18.0 source tree, a .tar.xz/.tar.gz "
            "archive of one, or a git URL (or leave it unset for ../shared/odoo or the official 18.0 branch)."
        )
    if path.is_dir():
        version = odoo_version(path)
        if version != (18, 0):
            found = f"Odoo {version[0]}.{version[1]}" if version else "no odoo/release.py"
            raise SetupError(f"ODOO_SOURCE {path} is not an Odoo 18.0 source tree ({found} there).")
        return Source("dir", path)
    if path.name.endswith(ARCHIVE_SUFFIXES):
        return Source("archive", path)
    raise SetupError(f"ODOO_SOURCE {path} is neither a directory, a .tar.xz/.tar.gz archive nor a git URL.")


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(archive):
    """Check the archive against SHA256SUMS beside it; returns its digest."""
    actual = sha256(archive)
    sums = archive.parent / "SHA256SUMS"
    if not sums.is_file():
        say(f"no SHA256SUMS beside {archive.name}: its checksum is not checked")
        return actual
    expected = None
    for line in sums.read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == archive.name:
            expected = fields[0].lower()
    if expected is None:
        say(f"{sums} lists no checksum for {archive.name}: not checked")
    elif expected != actual:
        raise SetupError(
            f"checksum mismatch for {archive}: SHA256SUMS says {expected}, the file has {actual}; "
            "the archive is damaged or was replaced: copy it again."
        )
    else:
        say(f"{archive.name}: checksum matches SHA256SUMS")
    return actual


def unpack(archive, target):
    """Unpack the archive into target; returns the Odoo tree inside it."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(target, filter="data")
            else:  # Python < 3.11.4: refuse members that escape the target by hand
                for member in tar.getmembers():
                    if member.name.startswith("/") or ".." in Path(member.name).parts:
                        raise SetupError(f"{archive} holds an unsafe path: {member.name}")
                tar.extractall(target)
    except (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, OSError) as error:
        raise SetupError(f"cannot unpack {archive}: {error} (the archive is corrupt or incomplete: copy it again)") \
            from error
    trees = [path for path in [target, *target.iterdir()] if path.is_dir() and odoo_version(path)]
    if not trees:
        raise SetupError(f"{archive} holds no Odoo source tree (no odoo/release.py at its top or one level down).")
    version = odoo_version(trees[0])
    if version != (18, 0):
        raise SetupError(f"{archive} holds Odoo {version[0]}.{version[1]}, not 18.0.")
    return trees[0]


def clone(url, target):
    """Shallow clone of the 18.0 branch; returns the tree."""
    if not shutil.which("git"):
        raise SetupError("ODOO_SOURCE is a git URL but git is not installed: apt-get install git.")
    result = subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", "--branch", BRANCH, url, str(target)],
        capture_output=True, text=True, check=False, env=dict(os.environ, GIT_TERMINAL_PROMPT="0"),
    )
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        hint = f" (no {SHARED_ODOO}/odoo-*.tar.xz was found to use instead)" if url == OFFICIAL_GIT else ""
        raise SetupError(
            f"cannot clone branch {BRANCH} of {url}{hint}: {last}. Check the URL and the network, or set "
            "ODOO_SOURCE to an Odoo 18.0 archive or source tree."
        )
    if odoo_version(target) != (18, 0):
        raise SetupError(f"{url} branch {BRANCH} is not Odoo 18.0.")
    return target


def fixed_requirements(text):
    """Odoo's requirements.txt with the fixes this Python needs (REQUIREMENT_FIXES)."""
    lines = []
    for line in text.splitlines():
        fixed = line
        for pattern, replacement in REQUIREMENT_FIXES:
            match = pattern.match(line.strip())
            if match:
                fixed = replacement + line.strip()[match.end():] if replacement else ""
                break
        lines.append(fixed)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the environment

def source_key(source):
    """What identifies the source for the idempotency check."""
    if source.kind == "archive":
        return {"archive": source.location.name, "sha256": verify_checksum(source.location)}
    if source.kind == "dir":
        requirements = source.location / "requirements.txt"
        return {"dir": str(source.location),
                "requirements": sha256(requirements) if requirements.is_file() else None}
    return {"git": source.location, "branch": BRANCH}


def wanted_stamp(source, python):
    return {
        "recipe": RECIPE,
        "python": python,
        "source": source_key(source),
        "requirements-dev": sha256(ROOT / "requirements-dev.txt"),
    }


def current_stamp(venv):
    try:
        return json.loads((venv / "cobranza-setup.json").read_text())
    except (OSError, ValueError):
        return None


def works(venv):
    python = venv / "bin" / "python"
    if not python.exists():
        return False
    check = subprocess.run(
        [str(python), "-c", "import odoo.release as r, pytest_odoo, websocket; "
         "assert r.version_info[:2] == (18, 0)"],
        capture_output=True, check=False, cwd="/",
    )
    return check.returncode == 0


def is_current(venv, stamp):
    return current_stamp(venv) == stamp and works(venv)


def run_logged(command, log, what):
    """Run a long command, echoing pip's per-package lines so the step never looks hung."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(map(str, command))}\n")
        out.flush()
        process = subprocess.Popen(
            [str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=ROOT,
        )
        for line in process.stdout:
            out.write(line)
            if line.startswith(("Collecting ", "Building wheel", "Successfully installed")):
                say("  " + line.split(" (from ")[0].strip()[:150])
        process.wait()
    if process.returncode:
        tail = "".join(log.read_text().splitlines(keepends=True)[-40:])
        print(tail, file=sys.stderr)
        raise SetupError(f"{what} failed (exit {process.returncode}); the whole log is in {log}")


def build(source, stamp, venvs, python):
    """A new environment in venvs/; returns its path. Removes it again when anything fails."""
    venvs.mkdir(parents=True, exist_ok=True)
    new = venvs / time.strftime("venv-%Y%m%d-%H%M%S")
    log = venvs / f"{new.name}.log"
    if new.exists():
        shutil.rmtree(new)
    try:
        if source.kind == "archive":
            with step(f"unpacking {source.location.name}"):
                tree = unpack(source.location, new / "src")
        elif source.kind == "git":
            with step(f"cloning {source.location} (branch {BRANCH}, shallow)"):
                tree = clone(source.location, new / "src" / "odoo")
        else:
            tree = source.location
        with step(f"creating the virtual environment {new.relative_to(ROOT) if new.is_relative_to(ROOT) else new}"):
            subprocess.run([python, "-m", "venv", str(new)], check=True, capture_output=True)
            run_logged([new / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "-q",
                        "--upgrade", "pip", "setuptools<81", "wheel"], log, "upgrading pip")
        requirements = new / "odoo-requirements.txt"
        requirements.write_text(fixed_requirements((tree / "requirements.txt").read_text()))
        pip = [new / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        with step("installing Odoo's requirements (psycopg2 builds from source: a minute or two)"):
            run_logged([*pip, "-r", requirements], log, "installing Odoo's requirements.txt")
        with step(f"installing Odoo 18.0 from {tree}"):
            run_logged([*pip, "--no-deps", "--no-build-isolation", "-e", tree], log, "installing Odoo")
        with step("installing the project's packages (requirements-dev.txt)"):
            run_logged([*pip, "-r", ROOT / "requirements-dev.txt"], log, "installing requirements-dev.txt")
        if not works(new):
            raise SetupError(f"the new environment {new} does not import Odoo 18.0 and the test packages; "
                             f"see {log}")
        (new / "cobranza-setup.json").write_text(json.dumps(stamp, indent=1) + "\n")
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return new


def switch(venv, new, venvs):
    """Point venv (a symlink) at new; keep nothing else but the logs."""
    if venv.exists() and not venv.is_symlink():
        # a .venv made by hand: keep it in venvs/ until the switch is done
        venv.rename(venvs / time.strftime("previous-%Y%m%d-%H%M%S"))
    link = venv.with_name(venv.name + ".switch")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(new.relative_to(venv.parent) if new.is_relative_to(venv.parent) else new)
    os.replace(link, venv)
    for old in venvs.iterdir():
        if old.is_dir() and old != new:
            shutil.rmtree(old, ignore_errors=True)
        elif old.is_file() and old.name != f"{new.name}.log":
            old.unlink()


def setup_venv(source_value, venv, venvs, python=sys.executable, force=False):
    """Build (or keep) the environment; returns True when it was (re)built."""
    source = resolve_source(source_value)
    say(f"Odoo source: {source.kind} {source.location}")
    stamp = wanted_stamp(source, python)
    if not force and is_current(venv, stamp):
        say(f"{venv.name} is up to date (same Odoo source, same requirements): kept")
        return False
    new = build(source, stamp, venvs, python)
    switch(venv, new, venvs)
    say(f"{venv.name} -> {os.readlink(venv)} (Odoo 18.0, requirements-dev.txt)")
    return True


# ---------------------------------------------------------------- the system

def chromium_found():
    return any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome",
                                                "google-chrome-stable"))


def missing_system_packages(git_needed=False):
    needs = list(SYSTEM_NEEDS) + ([("git", "git")] if git_needed else [])
    missing = []
    for command, package in needs:
        present = chromium_found() if command == "chromium" else shutil.which(command)
        if not present and package not in missing:
            missing.append(package)
    return missing


def setup_system(git_needed=False):
    missing = missing_system_packages(git_needed)
    if missing:
        if os.geteuid() != 0:
            raise SetupError(
                f"missing system packages: {' '.join(missing)}. Run `sudo apt-get install {' '.join(missing)}` "
                "(or `sudo make setup`), then `make setup` again."
            )
        with step(f"apt-get install {' '.join(missing)}"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            for command in (["apt-get", "update", "-q"],
                            ["apt-get", "install", "-y", "-q", *missing]):
                result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
                if result.returncode:
                    print(result.stdout[-4000:] + result.stderr[-4000:], file=sys.stderr)
                    raise SetupError(f"`{' '.join(command)}` failed (exit {result.returncode}): check the "
                                     "package sources and the network, then run make setup again.")
        still = missing_system_packages(git_needed)
        if still:
            raise SetupError(f"apt-get installed but these are still missing: {' '.join(still)}")
    else:
        say("system packages: PostgreSQL, wkhtmltopdf, chromium, libpq headers, gcc are there")
    pg = pglocal.params()
    if not pglocal.is_local(pg):
        say(f"PostgreSQL at {pg['host']}:{pg['port']} (not local): not managed here")
        return
    if os.geteuid() != 0:
        say("not root: the local PostgreSQL cluster and the role are checked by make run / make test")
        return
    with step(f"PostgreSQL on port {pg['port']} and role {pg['user']}"):
        try:
            if not pglocal.prepare_local(pg, log=say):
                raise SetupError(
                    f"no local PostgreSQL cluster listens on port {pg['port']}: "
                    f"`pg_createcluster 15 main --start`, or set PGHOST/PGPORT to a server you have."
                )
        except pglocal.PgError as error:
            raise SetupError(str(error)) from error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-system", action="store_true",
                        help="skip apt and PostgreSQL; only the virtual environment")
    parser.add_argument("--force", action="store_true", help="rebuild the environment even when up to date")
    args = parser.parse_args(argv)
    venv = Path(os.environ.get("COBRANZA_VENV") or ROOT / ".venv").absolute()
    venvs = venv.with_name(venv.name + "s")
    started = time.monotonic()
    try:
        if sys.version_info[:2] not in ((3, 10), (3, 11), (3, 12)):
            raise SetupError(f"{sys.executable} is Python {sys.version.split()[0]}; Odoo 18.0 needs 3.10 to 3.12.")
        source_value = os.environ.get("ODOO_SOURCE", "")
        if not args.no_system:
            setup_system(git_needed=resolve_source(source_value).kind == "git")
        setup_venv(source_value, venv, venvs, force=args.force or os.environ.get("COBRANZA_SETUP_FORCE") == "1")
    except SetupError as error:
        print(f"[setup] ERROR: {error}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("[setup] interrupted; the previous environment, if any, is untouched", file=sys.stderr)
        return 130
    say(f"ready in {time.monotonic() - started:.1f} s: `make run` serves Odoo on :8069, `make test` runs the tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
