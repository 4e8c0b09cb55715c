"""The decisions of scripts/setup.py (`make setup`) that need no network.

Where the Odoo source comes from, the checksum check, a corrupt archive, the requirement
fixes, the idempotency stamp, and that a failed run leaves the previous environment as it was.
"""
import hashlib
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "setup.py"
spec = importlib.util.spec_from_file_location("cobranza_setup", SCRIPT)
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)


def odoo_tree(parent, version=(18, 0)):
    tree = parent / "odoo-src"
    (tree / "odoo").mkdir(parents=True)
    (tree / "odoo" / "release.py").write_text(f"version_info = ({version[0]}, {version[1]}, 0, 'final', 0, '')\n")
    (tree / "requirements.txt").write_text("cbor2==5.4.2 ; python_version < '3.12'\nlxml==4.9.3\n")
    return tree


def archive_of(tree, path):
    with tarfile.open(path, "w:xz") as tar:
        tar.add(tree, arcname="odoo-18.0")
    return path


def write_sums(archive, digest=None):
    digest = digest or hashlib.sha256(archive.read_bytes()).hexdigest()
    (archive.parent / "SHA256SUMS").write_text(f"{digest}  {archive.name}\n")


def test_a_directory_source_is_used_in_place(tmp_path):
    tree = odoo_tree(tmp_path)
    source = setup.resolve_source(str(tree))
    assert (source.kind, source.location) == ("dir", tree.resolve())


def test_a_directory_that_is_not_odoo_18_is_refused(tmp_path):
    with pytest.raises(setup.SetupError, match=r"not an Odoo 18\.0 source tree \(Odoo 17\.0 there\)"):
        setup.resolve_source(str(odoo_tree(tmp_path, (17, 0))))
    with pytest.raises(setup.SetupError, match=r"no odoo/release\.py"):
        setup.resolve_source(str(tmp_path))


def test_archives_and_git_urls_are_told_apart(tmp_path):
    archive = archive_of(odoo_tree(tmp_path), tmp_path / "odoo.tar.xz")
    assert setup.resolve_source(str(archive)).kind == "archive"
    for url in ("https://github.com/odoo/odoo", "git@github.com:odoo/odoo.git", "file:///srv/odoo.git"):
        assert setup.resolve_source(url).kind == "git", url


def test_a_missing_source_says_what_to_give(tmp_path):
    with pytest.raises(setup.SetupError, match=r"does not exist: give an Odoo 18\.0 source tree"):
        setup.resolve_source(str(tmp_path / "nowhere"))
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(setup.SetupError, match="neither a directory"):
        setup.resolve_source(str(other))


def test_default_is_the_shared_archive_when_there_is_one():
    shared = sorted(setup.SHARED_ODOO.glob("odoo-*.tar.xz"))
    expected = str(shared[-1]) if shared else setup.OFFICIAL_GIT
    assert setup.default_source() == expected
    assert setup.resolve_source("").location in (Path(expected), expected)


def test_checksum_match_and_mismatch(tmp_path):
    archive = archive_of(odoo_tree(tmp_path), tmp_path / "odoo.tar.xz")
    write_sums(archive)
    assert setup.verify_checksum(archive) == hashlib.sha256(archive.read_bytes()).hexdigest()
    write_sums(archive, "0" * 64)
    with pytest.raises(setup.SetupError, match="checksum mismatch"):
        setup.verify_checksum(archive)


def test_a_corrupt_archive_is_refused_clearly(tmp_path):
    archive = tmp_path / "odoo.tar.xz"
    good = archive_of(odoo_tree(tmp_path), tmp_path / "good.tar.xz").read_bytes()
    archive.write_bytes(good[: len(good) // 2])  # cut short, as an interrupted copy
    with pytest.raises(setup.SetupError, match="corrupt or incomplete"):
        setup.unpack(archive, tmp_path / "out")


def test_unpack_finds_the_tree_one_level_down(tmp_path):
    archive = archive_of(odoo_tree(tmp_path), tmp_path / "odoo.tar.xz")
    tree = setup.unpack(archive, tmp_path / "out")
    assert tree == tmp_path / "out" / "odoo-18.0"
    assert setup.odoo_version(tree) == (18, 0)


def test_an_archive_with_an_escaping_path_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"x"
        member = tarfile.TarInfo("../escaped.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    with pytest.raises(setup.SetupError):
        setup.unpack(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_requirement_fixes_for_python_311():
    fixed = setup.fixed_requirements(
        "cbor2==5.4.2 ; python_version < '3.12'\n"
        "cbor2==5.6.2 ; python_version >= '3.12'\n"
        "python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12'\n"
        "lxml==4.9.3 ; python_version > '3.10'\n"
    ).splitlines()
    assert fixed == [
        "cbor2==5.4.6 ; python_version < '3.12'",
        "cbor2==5.6.2 ; python_version >= '3.12'",
        "",
        "lxml==4.9.3 ; python_version > '3.10'",
    ]


def test_the_stamp_decides_whether_to_rebuild(tmp_path, monkeypatch):
    archive = archive_of(odoo_tree(tmp_path), tmp_path / "odoo.tar.xz")
    source = setup.resolve_source(str(archive))
    stamp = setup.wanted_stamp(source, sys.executable)
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / "cobranza-setup.json").write_text(json.dumps(stamp))
    monkeypatch.setattr(setup, "works", lambda _venv: True)
    assert setup.is_current(venv, stamp)
    assert setup.setup_venv(str(archive), venv, tmp_path / ".venvs") is False  # kept, nothing built
    # another archive, other requirements, or a broken environment: rebuild
    other = archive_of(odoo_tree(tmp_path / "other", (18, 0)), tmp_path / "other.tar.gz")
    assert not setup.is_current(venv, setup.wanted_stamp(setup.resolve_source(str(other)), sys.executable))
    assert not setup.is_current(venv, {**stamp, "requirements-dev": "changed"})
    monkeypatch.setattr(setup, "works", lambda _venv: False)
    assert not setup.is_current(venv, stamp)


def test_the_switch_keeps_only_the_new_environment(tmp_path):
    venvs = tmp_path / ".venvs"
    old, new = venvs / "venv-old", venvs / "venv-new"
    old.mkdir(parents=True)
    new.mkdir()
    venv = tmp_path / ".venv"
    venv.symlink_to(old)
    setup.switch(venv, new, venvs)
    assert venv.resolve() == new.resolve()
    assert not old.exists()
    # a .venv made by hand (a real directory) is replaced too
    hand = tmp_path / "hand" / ".venv"
    hand.mkdir(parents=True)
    (hand / "marker").write_text("by hand")
    newer = tmp_path / "hand" / ".venvs" / "venv-newer"
    newer.mkdir(parents=True)
    setup.switch(hand, newer, newer.parent)
    assert hand.is_symlink() and hand.resolve() == newer.resolve()


@pytest.mark.parametrize("problem", ["missing", "mismatch", "corrupt"])
def test_a_failed_run_says_one_line_and_leaves_the_environment_alone(tmp_path, problem):
    venv = tmp_path / ".venv"
    venv.mkdir()
    (venv / "marker").write_text("working environment")
    archive = archive_of(odoo_tree(tmp_path), tmp_path / "odoo.tar.xz")
    if problem == "missing":
        source = tmp_path / "nowhere.tar.xz"
    elif problem == "mismatch":
        write_sums(archive, "f" * 64)
        source = archive
    else:
        archive.write_bytes(archive.read_bytes()[:200])
        write_sums(archive)
        source = archive
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--no-system"],
        env=dict(os.environ, ODOO_SOURCE=str(source), COBRANZA_VENV=str(venv)),
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("[setup] ERROR")]
    assert len(errors) == 1, result.stderr
    assert {"missing": "does not exist", "mismatch": "checksum mismatch", "corrupt": "corrupt"}[problem] in errors[0]
    assert (venv / "marker").read_text() == "working environment"
    assert not venv.is_symlink()
    leftovers = list((tmp_path / ".venvs").glob("venv-*/")) if (tmp_path / ".venvs").exists() else []
    assert leftovers == []
