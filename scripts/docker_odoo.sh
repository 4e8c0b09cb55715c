#!/usr/bin/env bash
# Command of the compose "odoo" service (run through the image's entrypoint, which passes a
# non-option command on unchanged). The first start creates the database with cobranza_mgmt,
# the Sales bridge and demo data; every later start finds the module installed and only serves
# it, so a restart never re-runs the install.
set -euo pipefail
host=${HOST:-db} user=${USER:-odoo} password=${PASSWORD:-odoo} db=${COBRANZA_DB:-cobranza}
export PGPASSWORD=$password
args=(--db_host="$host" --db_port=5432 --db_user="$user" --db_password="$password"
      --database="$db" --db-filter="^${db}\$")
for _ in $(seq 30); do
    psql -h "$host" -U "$user" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
done
installed=$(psql -h "$host" -U "$user" -d "$db" -tAc \
    "SELECT 1 FROM ir_module_module WHERE name = 'cobranza_mgmt' AND state = 'installed'" 2>/dev/null || true)
if [ "$installed" = "1" ]; then
    exec odoo "${args[@]}"
fi
echo "cobranza: creating database $db with cobranza_mgmt and demo data"
exec odoo "${args[@]}" --init=cobranza_mgmt,cobranza_mgmt_sale,payment_demo --without-demo=
