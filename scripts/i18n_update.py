#!/usr/bin/env python3
"""Refresh addons/<module>/i18n/<module>.pot from a database and merge it into es.po.

    python3 scripts/i18n_update.py --db DBNAME [--config odoo.conf] [--module cobranza_mgmt]

The database must have the module installed and up to date (``-u module``). Existing
Spanish translations are kept; new terms are added untranslated and listed, so that
they can be translated before committing (the test suite fails on a missing one).
"""
import argparse
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--config", help="Odoo configuration file (database access)")
    parser.add_argument("--module", default="cobranza_mgmt")
    args = parser.parse_args()
    i18n = ROOT / "addons" / args.module / "i18n"
    pot_path = i18n / f"{args.module}.pot"
    command = [sys.executable, "-c", "import odoo.cli; odoo.cli.main()", "-d", args.db,
               f"--addons-path={ROOT / 'addons'}", f"--i18n-export={pot_path}", f"--modules={args.module}",
               "--stop-after-init", "--log-level=warn"]
    if args.config:
        command[3:3] = ["-c", args.config]
    subprocess.run(command, check=True)

    pot = polib.pofile(str(pot_path))
    es_path = i18n / "es.po"
    old = {entry.msgid: entry.msgstr for entry in polib.pofile(str(es_path))} if es_path.exists() else {}
    es = polib.POFile()
    es.header = pot.header
    es.metadata = dict(pot.metadata, Language="es", **{"Plural-Forms": "nplurals=2; plural=(n != 1);"})
    missing = []
    for entry in pot:
        translated = polib.POEntry(
            msgid=entry.msgid, msgstr=old.get(entry.msgid, ""), occurrences=entry.occurrences,
            comment=entry.comment, tcomment=entry.tcomment, flags=entry.flags,
        )
        if not translated.msgstr:
            missing.append(entry.msgid)
        es.append(translated)
    es.save(str(es_path))
    print(f"{len(pot)} terms, {len(missing)} without Spanish translation")
    for msgid in missing:
        print(f"  {msgid!r}")


if __name__ == "__main__":
    main()
