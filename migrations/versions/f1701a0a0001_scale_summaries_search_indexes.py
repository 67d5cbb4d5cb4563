"""scale: month roll-ups of bill totals, cash-in totals and banks, search and keyset indexes

Revision ID: f1701a0a0001
Revises: g19c3c0ffee3
Create Date: 2026-12-05 10:00:00

Every figure staff see as a total comes from a summary the database keeps in the same
transaction as the rows (triggers, as bill_day_totals since a6667115a006):

- bill_month_totals: bill_day_totals rolled up by UTC month (a three-year history is ~90 000 day
  rows, ~3 000 month rows);
- cashin_day_totals (UTC day, status, reason) and cashin_month_totals (UTC month, status,
  reason, bank, preparer): the cash-ins list's totals and the overview's cash-in figures;
- cashin_banks: every bank a cash-in went to (the list's bank choices), one row per bank.

Search: the cash-ins list's text search gets a trigram index (PostgreSQL) or an FTS5 trigram
table (SQLite), as the bills list; so does the audit trail's "e-mail typed contains".
Keyset indexes: every filter of the cash-ins list and of the audit trail ends in
(created_at, id), the order they page by.

Plain CREATE INDEX only: on SQLite a batch rebuild of a table drops its triggers.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1701a0a0001'
down_revision = 'g19c3c0ffee3'
branch_labels = None
depends_on = None


SQLITE_MONTH = "substr({col}, 1, 7) || '-01'"
SQLITE_DAY = "substr({col}, 1, 10)"

SQLITE_UP = [
    # Bills by month, beside bill_day_totals' triggers (same events, same conditions).
    """
    CREATE TRIGGER bill_month_totals_insert AFTER INSERT ON bills BEGIN
      INSERT INTO bill_month_totals (month, status, issued_by_id, bills, amount)
      VALUES (substr(NEW.created_at, 1, 7) || '-01', NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (month, status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_month_totals_update
    AFTER UPDATE OF status, amount, created_at, issued_by_id ON bills
    WHEN OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount
      OR OLD.created_at IS NOT NEW.created_at OR OLD.issued_by_id IS NOT NEW.issued_by_id
    BEGIN
      UPDATE bill_month_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE month = substr(OLD.created_at, 1, 7) || '-01' AND status = OLD.status
        AND issued_by_id = OLD.issued_by_id;
      INSERT INTO bill_month_totals (month, status, issued_by_id, bills, amount)
      VALUES (substr(NEW.created_at, 1, 7) || '-01', NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (month, status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_month_totals_delete AFTER DELETE ON bills BEGIN
      UPDATE bill_month_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE month = substr(OLD.created_at, 1, 7) || '-01' AND status = OLD.status
        AND issued_by_id = OLD.issued_by_id;
    END
    """,
    # Cash-ins: per day (status, reason) and per month (also bank and preparer); their banks.
    """
    CREATE TRIGGER cashin_totals_insert AFTER INSERT ON cashins BEGIN
      INSERT INTO cashin_day_totals (day, status, reason, cashins, amount)
      VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.reason, 1, NEW.amount)
      ON CONFLICT (day, status, reason)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
      INSERT INTO cashin_month_totals
        (month, status, reason, bank_slug, created_by_id, cashins, amount)
      VALUES (substr(NEW.created_at, 1, 7) || '-01', NEW.status, NEW.reason, NEW.bank_slug,
              NEW.created_by_id, 1, NEW.amount)
      ON CONFLICT (month, status, reason, bank_slug, created_by_id)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
      INSERT INTO cashin_banks (slug, name) VALUES (NEW.bank_slug, NEW.bank_name)
      ON CONFLICT (slug) DO UPDATE SET name = excluded.name WHERE name IS NOT excluded.name;
    END
    """,
    """
    CREATE TRIGGER cashin_totals_update
    AFTER UPDATE OF status, amount, created_at, reason, bank_slug, created_by_id ON cashins
    WHEN OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount
      OR OLD.created_at IS NOT NEW.created_at OR OLD.reason IS NOT NEW.reason
      OR OLD.bank_slug IS NOT NEW.bank_slug OR OLD.created_by_id IS NOT NEW.created_by_id
    BEGIN
      UPDATE cashin_day_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status
        AND reason = OLD.reason;
      INSERT INTO cashin_day_totals (day, status, reason, cashins, amount)
      VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.reason, 1, NEW.amount)
      ON CONFLICT (day, status, reason)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
      UPDATE cashin_month_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE month = substr(OLD.created_at, 1, 7) || '-01' AND status = OLD.status
        AND reason = OLD.reason AND bank_slug = OLD.bank_slug
        AND created_by_id = OLD.created_by_id;
      INSERT INTO cashin_month_totals
        (month, status, reason, bank_slug, created_by_id, cashins, amount)
      VALUES (substr(NEW.created_at, 1, 7) || '-01', NEW.status, NEW.reason, NEW.bank_slug,
              NEW.created_by_id, 1, NEW.amount)
      ON CONFLICT (month, status, reason, bank_slug, created_by_id)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
      INSERT INTO cashin_banks (slug, name) VALUES (NEW.bank_slug, NEW.bank_name)
      ON CONFLICT (slug) DO NOTHING;
    END
    """,
    """
    CREATE TRIGGER cashin_totals_delete AFTER DELETE ON cashins BEGIN
      UPDATE cashin_day_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status
        AND reason = OLD.reason;
      UPDATE cashin_month_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE month = substr(OLD.created_at, 1, 7) || '-01' AND status = OLD.status
        AND reason = OLD.reason AND bank_slug = OLD.bank_slug
        AND created_by_id = OLD.created_by_id;
    END
    """,
    # The cash-ins list's search (FTS5 trigram, external content: the text stays in cashins).
    """
    CREATE VIRTUAL TABLE cashins_search USING fts5(
      holder_name, account, merchant_reference, gateway_reference,
      content='cashins', content_rowid='id', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER cashins_search_insert AFTER INSERT ON cashins BEGIN
      INSERT INTO cashins_search (rowid, holder_name, account, merchant_reference,
                                  gateway_reference)
      VALUES (NEW.id, NEW.holder_name, NEW.account, NEW.merchant_reference,
              NEW.gateway_reference);
    END
    """,
    """
    CREATE TRIGGER cashins_search_delete AFTER DELETE ON cashins BEGIN
      INSERT INTO cashins_search (cashins_search, rowid, holder_name, account,
                                  merchant_reference, gateway_reference)
      VALUES ('delete', OLD.id, OLD.holder_name, OLD.account, OLD.merchant_reference,
              OLD.gateway_reference);
    END
    """,
    """
    CREATE TRIGGER cashins_search_update
    AFTER UPDATE OF holder_name, account, merchant_reference, gateway_reference ON cashins
    BEGIN
      INSERT INTO cashins_search (cashins_search, rowid, holder_name, account,
                                  merchant_reference, gateway_reference)
      VALUES ('delete', OLD.id, OLD.holder_name, OLD.account, OLD.merchant_reference,
              OLD.gateway_reference);
      INSERT INTO cashins_search (rowid, holder_name, account, merchant_reference,
                                  gateway_reference)
      VALUES (NEW.id, NEW.holder_name, NEW.account, NEW.merchant_reference,
              NEW.gateway_reference);
    END
    """,
    "INSERT INTO cashins_search (cashins_search) VALUES ('rebuild')",
    # The audit trail's "e-mail typed contains".
    """
    CREATE VIRTUAL TABLE audit_search USING fts5(
      actor_label, content='audit_events', content_rowid='id', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER audit_search_insert AFTER INSERT ON audit_events BEGIN
      INSERT INTO audit_search (rowid, actor_label) VALUES (NEW.id, NEW.actor_label);
    END
    """,
    """
    CREATE TRIGGER audit_search_delete AFTER DELETE ON audit_events BEGIN
      INSERT INTO audit_search (audit_search, rowid, actor_label)
      VALUES ('delete', OLD.id, OLD.actor_label);
    END
    """,
    """
    CREATE TRIGGER audit_search_update AFTER UPDATE OF actor_label ON audit_events BEGIN
      INSERT INTO audit_search (audit_search, rowid, actor_label)
      VALUES ('delete', OLD.id, OLD.actor_label);
      INSERT INTO audit_search (rowid, actor_label) VALUES (NEW.id, NEW.actor_label);
    END
    """,
    "INSERT INTO audit_search (audit_search) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_search_update",
    "DROP TRIGGER IF EXISTS audit_search_delete",
    "DROP TRIGGER IF EXISTS audit_search_insert",
    "DROP TABLE IF EXISTS audit_search",
    "DROP TRIGGER IF EXISTS cashins_search_update",
    "DROP TRIGGER IF EXISTS cashins_search_delete",
    "DROP TRIGGER IF EXISTS cashins_search_insert",
    "DROP TABLE IF EXISTS cashins_search",
    "DROP TRIGGER IF EXISTS cashin_totals_delete",
    "DROP TRIGGER IF EXISTS cashin_totals_update",
    "DROP TRIGGER IF EXISTS cashin_totals_insert",
    "DROP TRIGGER IF EXISTS bill_month_totals_delete",
    "DROP TRIGGER IF EXISTS bill_month_totals_update",
    "DROP TRIGGER IF EXISTS bill_month_totals_insert",
]

PG_MONTH = "date_trunc('month', {col} AT TIME ZONE 'UTC')::date"

POSTGRES_UP = [
    """
    CREATE FUNCTION bill_month_totals_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE bill_month_totals SET bills = bills - 1, amount = amount - OLD.amount
        WHERE month = date_trunc('month', OLD.created_at AT TIME ZONE 'UTC')::date
          AND status = OLD.status AND issued_by_id = OLD.issued_by_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO bill_month_totals (month, status, issued_by_id, bills, amount)
        VALUES (date_trunc('month', NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status,
                NEW.issued_by_id, 1, NEW.amount)
        ON CONFLICT (month, status, issued_by_id) DO UPDATE
          SET bills = bill_month_totals.bills + 1,
              amount = bill_month_totals.amount + EXCLUDED.amount;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER bill_month_totals_insert_delete AFTER INSERT OR DELETE ON bills
    FOR EACH ROW EXECUTE FUNCTION bill_month_totals_track()
    """,
    """
    CREATE TRIGGER bill_month_totals_update
    AFTER UPDATE OF status, amount, created_at, issued_by_id ON bills FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount IS DISTINCT FROM NEW.amount
      OR OLD.created_at IS DISTINCT FROM NEW.created_at
      OR OLD.issued_by_id IS DISTINCT FROM NEW.issued_by_id)
    EXECUTE FUNCTION bill_month_totals_track()
    """,
    """
    CREATE FUNCTION cashin_totals_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE cashin_day_totals SET cashins = cashins - 1, amount = amount - OLD.amount
        WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date AND status = OLD.status
          AND reason = OLD.reason;
        UPDATE cashin_month_totals SET cashins = cashins - 1, amount = amount - OLD.amount
        WHERE month = date_trunc('month', OLD.created_at AT TIME ZONE 'UTC')::date
          AND status = OLD.status AND reason = OLD.reason AND bank_slug = OLD.bank_slug
          AND created_by_id = OLD.created_by_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO cashin_day_totals (day, status, reason, cashins, amount)
        VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, NEW.reason, 1,
                NEW.amount)
        ON CONFLICT (day, status, reason) DO UPDATE
          SET cashins = cashin_day_totals.cashins + 1,
              amount = cashin_day_totals.amount + EXCLUDED.amount;
        INSERT INTO cashin_month_totals
          (month, status, reason, bank_slug, created_by_id, cashins, amount)
        VALUES (date_trunc('month', NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status,
                NEW.reason, NEW.bank_slug, NEW.created_by_id, 1, NEW.amount)
        ON CONFLICT (month, status, reason, bank_slug, created_by_id) DO UPDATE
          SET cashins = cashin_month_totals.cashins + 1,
              amount = cashin_month_totals.amount + EXCLUDED.amount;
        INSERT INTO cashin_banks (slug, name) VALUES (NEW.bank_slug, NEW.bank_name)
        ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name
        WHERE cashin_banks.name IS DISTINCT FROM EXCLUDED.name;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER cashin_totals_insert_delete AFTER INSERT OR DELETE ON cashins
    FOR EACH ROW EXECUTE FUNCTION cashin_totals_track()
    """,
    """
    CREATE TRIGGER cashin_totals_update
    AFTER UPDATE OF status, amount, created_at, reason, bank_slug, created_by_id ON cashins
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount IS DISTINCT FROM NEW.amount
      OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.reason IS DISTINCT FROM NEW.reason
      OR OLD.bank_slug IS DISTINCT FROM NEW.bank_slug
      OR OLD.created_by_id IS DISTINCT FROM NEW.created_by_id)
    EXECUTE FUNCTION cashin_totals_track()
    """,
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # One text per cash-in; chr(1) between the columns so a search never matches across two.
    """
    CREATE FUNCTION cashin_search_text(holder text, account text, reference text,
                                       gateway_reference text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(holder || chr(1) || account || chr(1) || reference || chr(1)
                   || coalesce(gateway_reference, ''))
    $$
    """,
    """
    CREATE INDEX ix_cashins_search_trgm ON cashins USING gin
      (cashin_search_text(holder_name, account, merchant_reference, gateway_reference)
       gin_trgm_ops)
    """,
    "CREATE INDEX ix_audit_events_actor_label_trgm ON audit_events USING gin"
    " (lower(actor_label) gin_trgm_ops)",
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_audit_events_actor_label_trgm",
    "DROP INDEX IF EXISTS ix_cashins_search_trgm",
    "DROP FUNCTION IF EXISTS cashin_search_text(text, text, text, text)",
    "DROP TRIGGER IF EXISTS cashin_totals_update ON cashins",
    "DROP TRIGGER IF EXISTS cashin_totals_insert_delete ON cashins",
    "DROP FUNCTION IF EXISTS cashin_totals_track()",
    "DROP TRIGGER IF EXISTS bill_month_totals_update ON bills",
    "DROP TRIGGER IF EXISTS bill_month_totals_insert_delete ON bills",
    "DROP FUNCTION IF EXISTS bill_month_totals_track()",
]

OPEN_CONFLICT = "late_outcome IS NOT NULL AND late_checked_at IS NULL"

INDEXES = [
    # The cash-ins list: each filter then its order.
    ('ix_cashins_bank_created_at', 'cashins', ['bank_slug', 'created_at', 'id']),
    ('ix_cashins_created_by_created_at', 'cashins', ['created_by_id', 'created_at', 'id']),
    ('ix_cashins_reason_created_at', 'cashins', ['reason', 'created_at', 'id']),
    # The audit trail pages by (created_at, id), as the other lists.
    ('ix_audit_events_created_at_id', 'audit_events', ['created_at', 'id']),
    ('ix_audit_events_actor_created_at', 'audit_events', ['actor_id', 'created_at', 'id']),
    ('ix_audit_events_action_created_at_id', 'audit_events', ['action', 'created_at', 'id']),
    (
        'ix_audit_events_object_created_at',
        'audit_events',
        ['object_type', 'object_id', 'created_at', 'id'],
    ),
]


def upgrade():
    op.create_table(
        'bill_month_totals',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bills', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'month', 'status', 'issued_by_id', name=op.f('pk_bill_month_totals')
        ),
    )
    op.create_table(
        'cashin_day_totals',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('cashins', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'status', 'reason', name=op.f('pk_cashin_day_totals')),
    )
    op.create_table(
        'cashin_month_totals',
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('bank_slug', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('cashins', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'month',
            'status',
            'reason',
            'bank_slug',
            'created_by_id',
            name=op.f('pk_cashin_month_totals'),
        ),
    )
    op.create_table(
        'cashin_banks',
        sa.Column('slug', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('slug', name=op.f('pk_cashin_banks')),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    # The needs-checking banner (every accountant page): only the open conflicts are indexed.
    op.create_index(
        'ix_cashins_open_conflicts',
        'cashins',
        ['id'],
        sqlite_where=sa.text(OPEN_CONFLICT),
        postgresql_where=sa.text(OPEN_CONFLICT),
    )
    # Replaced by the longer ones above (same leading columns).
    op.drop_index('ix_audit_events_action_created_at', table_name='audit_events')
    op.drop_index('ix_audit_events_object', table_name='audit_events')

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(statement)
    sqlite = dialect == 'sqlite'
    month = (SQLITE_MONTH if sqlite else PG_MONTH).format
    day = SQLITE_DAY.format(col='created_at') if sqlite else "(created_at AT TIME ZONE 'UTC')::date"
    day_month = "substr(day, 1, 7) || '-01'" if sqlite else "date_trunc('month', day)::date"
    op.execute(
        "INSERT INTO bill_month_totals (month, status, issued_by_id, bills, amount) "
        f"SELECT {day_month}, status, issued_by_id, sum(bills), sum(amount) "
        f"FROM bill_day_totals GROUP BY {day_month}, status, issued_by_id"
    )
    op.execute(
        "INSERT INTO cashin_day_totals (day, status, reason, cashins, amount) "
        f"SELECT {day}, status, reason, count(*), sum(amount) FROM cashins "
        f"GROUP BY {day}, status, reason"
    )
    m = month(col='created_at')
    op.execute(
        "INSERT INTO cashin_month_totals "
        "(month, status, reason, bank_slug, created_by_id, cashins, amount) "
        f"SELECT {m}, status, reason, bank_slug, created_by_id, count(*), sum(amount) "
        f"FROM cashins GROUP BY {m}, status, reason, bank_slug, created_by_id"
    )
    op.execute(
        "INSERT INTO cashin_banks (slug, name) "
        "SELECT bank_slug, max(bank_name) FROM cashins GROUP BY bank_slug"
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    op.create_index('ix_audit_events_object', 'audit_events', ['object_type', 'object_id'])
    op.create_index(
        'ix_audit_events_action_created_at', 'audit_events', ['action', 'created_at']
    )
    op.drop_index('ix_cashins_open_conflicts', table_name='cashins')
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table('cashin_banks')
    op.drop_table('cashin_month_totals')
    op.drop_table('cashin_day_totals')
    op.drop_table('bill_month_totals')
