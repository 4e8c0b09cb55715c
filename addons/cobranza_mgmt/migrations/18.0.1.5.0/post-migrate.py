"""18.0.1.5.0: promises carry ``from_portal``. The promises customers made in the portal before it
(18.0.1.4.0) were recorded by a portal or public (share) user: flag them, so the worklist counts them."""


def migrate(cr, version):
    if not version:
        return
    # Raw SQL: one statement for every promise; the ORM would load each promise to write a flag that
    # has no compute, constraint or tracking to run.
    cr.execute("""
        UPDATE cobranza_promise promise
           SET from_portal = true
          FROM res_users author
         WHERE author.id = promise.user_id AND author.share AND promise.from_portal IS NOT TRUE
    """)
