"""lists at scale: per-day bill totals kept by triggers, an index for free-text search, keyset indexes

Revision ID: a6667115a006
Revises: 848e48cbd88b
Create Date: 2026-12-04 18:00:00.000000

The bills list shows the count and francs of the whole filtered set. Counting 100 000 bills on
every page is what made it slow, so the database keeps one row per (UTC day, status, issuer)
with the number of bills and their francs, maintained by triggers on ``bills`` (every write path
is covered, the bulk loads of the benchmark included, and no Python code can forget it).

Free-text search: PostgreSQL gets a pg_trgm GIN index on the lower-cased text of the four
searched columns; SQLite gets an FTS5 table with the trigram tokenizer, kept in sync by triggers.
"""
from alembic import op
import sqlalchemy as sa

import dashboard.db


# revision identifiers, used by Alembic.
revision = 'a6667115a006'
down_revision = 'c2225ca5a002'
branch_labels = None
depends_on = None


SQLITE_UP = [
    # Per-day totals. SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS...' in UTC.
    """
    CREATE TRIGGER bill_day_totals_insert AFTER INSERT ON bills BEGIN
      INSERT INTO bill_day_totals (day, status, issued_by_id, bills, amount)
      VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (day, status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_day_totals_update
    AFTER UPDATE OF status, amount, created_at, issued_by_id ON bills
    WHEN OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount
      OR OLD.created_at IS NOT NEW.created_at OR OLD.issued_by_id IS NOT NEW.issued_by_id
    BEGIN
      UPDATE bill_day_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status
        AND issued_by_id = OLD.issued_by_id;
      INSERT INTO bill_day_totals (day, status, issued_by_id, bills, amount)
      VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (day, status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_day_totals_delete AFTER DELETE ON bills BEGIN
      UPDATE bill_day_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status
        AND issued_by_id = OLD.issued_by_id;
    END
    """,
    # Free text: an external-content FTS5 table (the text stays in bills only).
    """
    CREATE VIRTUAL TABLE bills_search USING fts5(
      merchant_reference, code, payer, description,
      content='bills', content_rowid='id', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER bills_search_insert AFTER INSERT ON bills BEGIN
      INSERT INTO bills_search (rowid, merchant_reference, code, payer, description)
      VALUES (NEW.id, NEW.merchant_reference, NEW.code, NEW.payer, NEW.description);
    END
    """,
    """
    CREATE TRIGGER bills_search_delete AFTER DELETE ON bills BEGIN
      INSERT INTO bills_search (bills_search, rowid, merchant_reference, code, payer, description)
      VALUES ('delete', OLD.id, OLD.merchant_reference, OLD.code, OLD.payer, OLD.description);
    END
    """,
    """
    CREATE TRIGGER bills_search_update
    AFTER UPDATE OF merchant_reference, code, payer, description ON bills BEGIN
      INSERT INTO bills_search (bills_search, rowid, merchant_reference, code, payer, description)
      VALUES ('delete', OLD.id, OLD.merchant_reference, OLD.code, OLD.payer, OLD.description);
      INSERT INTO bills_search (rowid, merchant_reference, code, payer, description)
      VALUES (NEW.id, NEW.merchant_reference, NEW.code, NEW.payer, NEW.description);
    END
    """,
    "INSERT INTO bills_search (bills_search) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS bills_search_update",
    "DROP TRIGGER IF EXISTS bills_search_delete",
    "DROP TRIGGER IF EXISTS bills_search_insert",
    "DROP TABLE IF EXISTS bills_search",
    "DROP TRIGGER IF EXISTS bill_day_totals_delete",
    "DROP TRIGGER IF EXISTS bill_day_totals_update",
    "DROP TRIGGER IF EXISTS bill_day_totals_insert",
]

POSTGRES_UP = [
    """
    CREATE FUNCTION bill_day_totals_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE bill_day_totals SET bills = bills - 1, amount = amount - OLD.amount
        WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date AND status = OLD.status
          AND issued_by_id = OLD.issued_by_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO bill_day_totals (day, status, issued_by_id, bills, amount)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, NEW.issued_by_id, 1,
                NEW.amount)
        ON CONFLICT (day, status, issued_by_id) DO UPDATE
          SET bills = bill_day_totals.bills + 1,
              amount = bill_day_totals.amount + EXCLUDED.amount;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER bill_day_totals_insert_delete AFTER INSERT OR DELETE ON bills
    FOR EACH ROW EXECUTE FUNCTION bill_day_totals_track()
    """,
    """
    CREATE TRIGGER bill_day_totals_update
    AFTER UPDATE OF status, amount, created_at, issued_by_id ON bills FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount IS DISTINCT FROM NEW.amount
      OR OLD.created_at IS DISTINCT FROM NEW.created_at
      OR OLD.issued_by_id IS DISTINCT FROM NEW.issued_by_id)
    EXECUTE FUNCTION bill_day_totals_track()
    """,
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # One text per bill; chr(1) between the columns so a search never matches across two.
    """
    CREATE FUNCTION bill_search_text(reference text, code text, payer text, description text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(reference || chr(1) || coalesce(code, '') || chr(1) || payer || chr(1)
                   || description)
    $$
    """,
    """
    CREATE INDEX ix_bills_search_trgm ON bills USING gin
      (bill_search_text(merchant_reference, code, payer, description) gin_trgm_ops)
    """,
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_bills_search_trgm",
    "DROP FUNCTION IF EXISTS bill_search_text(text, text, text, text)",
    "DROP TRIGGER IF EXISTS bill_day_totals_update ON bills",
    "DROP TRIGGER IF EXISTS bill_day_totals_insert_delete ON bills",
    "DROP FUNCTION IF EXISTS bill_day_totals_track()",
]


def upgrade():
    op.create_table(
        'bill_day_totals',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bills', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'status', 'issued_by_id', name=op.f('pk_bill_day_totals')),
    )
    # The list's order is (created_at, id): with id in the filter indexes, PostgreSQL reads a
    # filtered page straight off the index (SQLite has the rowid there already).
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index('ix_bills_status_created_at')
        batch_op.drop_index('ix_bills_issued_by_created_at')
        batch_op.create_index(
            'ix_bills_status_created_at', ['status', 'created_at', 'id'], unique=False
        )
        batch_op.create_index(
            'ix_bills_issued_by_created_at', ['issued_by_id', 'created_at', 'id'], unique=False
        )
    with op.batch_alter_table('cashins', schema=None) as batch_op:
        batch_op.drop_index('ix_cashins_status_created_at')
        batch_op.create_index(
            'ix_cashins_status_created_at', ['status', 'created_at', 'id'], unique=False
        )
        batch_op.create_index('ix_cashins_created_at_id', ['created_at', 'id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(statement)
    day = (
        "substr(created_at, 1, 10)"
        if dialect == 'sqlite'
        else "(created_at AT TIME ZONE 'UTC')::date"
    )
    op.execute(
        "INSERT INTO bill_day_totals (day, status, issued_by_id, bills, amount) "
        f"SELECT {day}, status, issued_by_id, count(*), sum(amount) FROM bills "
        f"GROUP BY {day}, status, issued_by_id"
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    with op.batch_alter_table('cashins', schema=None) as batch_op:
        batch_op.drop_index('ix_cashins_created_at_id')
        batch_op.drop_index('ix_cashins_status_created_at')
        batch_op.create_index('ix_cashins_status_created_at', ['status', 'created_at'], unique=False)
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index('ix_bills_issued_by_created_at')
        batch_op.drop_index('ix_bills_status_created_at')
        batch_op.create_index(
            'ix_bills_issued_by_created_at', ['issued_by_id', 'created_at'], unique=False
        )
        batch_op.create_index('ix_bills_status_created_at', ['status', 'created_at'], unique=False)
    op.drop_table('bill_day_totals')
