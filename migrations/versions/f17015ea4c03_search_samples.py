"""search: narrow sample tables to tell a broad search cheaply (PostgreSQL)

Revision ID: f17015ea4c03
Revises: f17015ea4c02
Create Date: 2026-12-07 22:10:00

f17015ea4c02 told a broad search by a trigram index on one row in eight of each searched table:
cheap to read, but each of its 1 001 matches was then checked against its row in the table (a
page of the heap each, and the search expression computed again). These tables hold just the
searched text of the same rows (and, for cash-ins, the bank), a hundred rows to a page: the same
proof at a fraction of the reads, and a search with a bank filter can be told there too. The
cash-ins' sample is one row in four (fewer rows; a search narrowed by a bank needs more).
Triggers keep them; the partial indexes of f17015ea4c02 are dropped. SQLite needs none: its FTS5
table alone is counted (dashboard/search.py).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f17015ea4c03'
down_revision = 'f17015ea4c02'
branch_labels = None
depends_on = None


# (sample table, source table, every, its columns as SQL over NEW / the source row, the source
# columns whose change rewrites the sample row). The text expressions are those of the trigram
# indexes; dashboard/search.py (TextIndex.sample_table, sample_every) reads them.
SAMPLES = [
    (
        "bill_search_sample",
        "bills",
        8,
        {"text": "bill_search_text({r}.merchant_reference, {r}.code, {r}.payer, {r}.description)"},
        ("merchant_reference", "code", "payer", "description"),
    ),
    (
        "cashin_search_sample",
        "cashins",
        4,
        {
            "text": "cashin_search_text({r}.holder_name, {r}.account, {r}.merchant_reference,"
            " {r}.gateway_reference)",
            "bank_slug": "{r}.bank_slug",
        },
        ("holder_name", "account", "merchant_reference", "gateway_reference", "bank_slug"),
    ),
    (
        "audit_search_sample",
        "audit_events",
        8,
        {"text": "lower({r}.actor_label)"},
        ("actor_label",),
    ),
]

DROPPED_INDEXES = {
    "bills": (
        "ix_bills_search_trgm_sample",
        "bill_search_text(merchant_reference, code, payer, description)",
    ),
    "cashins": (
        "ix_cashins_search_trgm_sample",
        "cashin_search_text(holder_name, account, merchant_reference, gateway_reference)",
    ),
    "audit_events": ("ix_audit_events_actor_label_trgm_sample", "lower(actor_label)"),
}


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name, source, every, columns, watched in SAMPLES:
        extra = "".join(f", {c} varchar(20) NOT NULL" for c in columns if c != "text")
        op.execute(
            f"CREATE TABLE {name} (id integer PRIMARY KEY"
            f" REFERENCES {source} (id) ON DELETE CASCADE, text text NOT NULL{extra})"
        )
        names = ", ".join(columns)
        from_new = ", ".join(expr.format(r="NEW") for expr in columns.values())
        from_row = ", ".join(expr.format(r=source) for expr in columns.values())
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
        op.execute(
            f"INSERT INTO {name} (id, {names}) SELECT id, {from_row} FROM {source}"
            f" WHERE id % {every} = 0"
        )
        op.execute(f"CREATE INDEX ix_{name}_trgm ON {name} USING gin (text gin_trgm_ops)")
        op.execute(
            f"""
            CREATE FUNCTION {name}_track() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              INSERT INTO {name} (id, {names}) VALUES (NEW.id, {from_new})
              ON CONFLICT (id) DO UPDATE SET {updates};
              RETURN NULL;
            END $$
            """
        )
        # How many rows match, up to a bound: read through the trigram index whatever the
        # planner guesses of the pattern (a plan reading the whole table would cost a scan).
        held = [c for c in columns if c != "text"]
        params = "".join(f", wanted_{c} text" for c in held)  # not a column's name
        where = "".join(f" AND (wanted_{c} IS NULL OR s.{c} = wanted_{c})" for c in held)
        op.execute(
            f"""
            CREATE FUNCTION {name}_count(pattern text, bound integer{params}) RETURNS integer
            LANGUAGE sql STABLE SET enable_seqscan = off AS $$
              SELECT count(*)::integer FROM
                (SELECT 1 FROM {name} AS s WHERE s.text LIKE pattern{where} LIMIT bound) AS found
            $$
            """
        )
        old = ", ".join(f"OLD.{c}" for c in watched)
        new = ", ".join(f"NEW.{c}" for c in watched)
        op.execute(
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {source} FOR EACH ROW"
            f" WHEN (NEW.id % {every} = 0) EXECUTE FUNCTION {name}_track()"
        )
        op.execute(
            f"CREATE TRIGGER {name}_update AFTER UPDATE OF {', '.join(watched)} ON {source}"
            f" FOR EACH ROW WHEN (NEW.id % {every} = 0 AND ({old}) IS DISTINCT FROM ({new}))"
            f" EXECUTE FUNCTION {name}_track()"
        )
    for index, _ in DROPPED_INDEXES.values():
        op.execute(f"DROP INDEX IF EXISTS {index}")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for source, (index, expression) in DROPPED_INDEXES.items():
        op.execute(
            f"CREATE INDEX {index} ON {source} USING gin ({expression} gin_trgm_ops)"
            " WHERE id % 8 = 0"
        )
    for name, source, _, _, _ in SAMPLES:
        op.execute(f"DROP TRIGGER IF EXISTS {name}_update ON {source}")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_insert ON {source}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}_track()")
        op.execute(f"DROP FUNCTION IF EXISTS {name}_count")
        op.execute(f"DROP TABLE IF EXISTS {name}")
