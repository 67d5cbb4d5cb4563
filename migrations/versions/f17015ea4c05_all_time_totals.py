"""summaries: bills and cash-ins totalled for all time, beside the day and month summaries

Revision ID: f17015ea4c05
Revises: f17015ea4c04
Create Date: 2026-12-08 03:40:00

The lists' first pages and their status, person, bank and reason filters total every bill or
cash-in ever made: they summed the whole month summary (some 3 000 rows for three years, a
millisecond, more every month). bill_all_time_totals and cashin_all_time_totals hold the same
keys without the month, kept by triggers in the same transaction as the rows (as the day and
month summaries are): a few rows per status and person, whatever the history's length. Filled
from the month summaries.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f17015ea4c05'
down_revision = 'f17015ea4c04'
branch_labels = None
depends_on = None

BILL_KEYS = "status, issued_by_id"
CASHIN_KEYS = "status, reason, bank_slug, created_by_id"

SQLITE_UP = [
    """
    CREATE TRIGGER bill_all_time_totals_insert AFTER INSERT ON bills BEGIN
      INSERT INTO bill_all_time_totals (status, issued_by_id, bills, amount)
      VALUES (NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_all_time_totals_update
    AFTER UPDATE OF status, amount, issued_by_id ON bills
    WHEN OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount
      OR OLD.issued_by_id IS NOT NEW.issued_by_id
    BEGIN
      UPDATE bill_all_time_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE status = OLD.status AND issued_by_id = OLD.issued_by_id;
      INSERT INTO bill_all_time_totals (status, issued_by_id, bills, amount)
      VALUES (NEW.status, NEW.issued_by_id, 1, NEW.amount)
      ON CONFLICT (status, issued_by_id)
      DO UPDATE SET bills = bills + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER bill_all_time_totals_delete AFTER DELETE ON bills BEGIN
      UPDATE bill_all_time_totals SET bills = bills - 1, amount = amount - OLD.amount
      WHERE status = OLD.status AND issued_by_id = OLD.issued_by_id;
    END
    """,
    """
    CREATE TRIGGER cashin_all_time_totals_insert AFTER INSERT ON cashins BEGIN
      INSERT INTO cashin_all_time_totals
        (status, reason, bank_slug, created_by_id, cashins, amount)
      VALUES (NEW.status, NEW.reason, NEW.bank_slug, NEW.created_by_id, 1, NEW.amount)
      ON CONFLICT (status, reason, bank_slug, created_by_id)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER cashin_all_time_totals_update
    AFTER UPDATE OF status, amount, reason, bank_slug, created_by_id ON cashins
    WHEN OLD.status IS NOT NEW.status OR OLD.amount IS NOT NEW.amount
      OR OLD.reason IS NOT NEW.reason OR OLD.bank_slug IS NOT NEW.bank_slug
      OR OLD.created_by_id IS NOT NEW.created_by_id
    BEGIN
      UPDATE cashin_all_time_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE status = OLD.status AND reason = OLD.reason AND bank_slug = OLD.bank_slug
        AND created_by_id = OLD.created_by_id;
      INSERT INTO cashin_all_time_totals
        (status, reason, bank_slug, created_by_id, cashins, amount)
      VALUES (NEW.status, NEW.reason, NEW.bank_slug, NEW.created_by_id, 1, NEW.amount)
      ON CONFLICT (status, reason, bank_slug, created_by_id)
      DO UPDATE SET cashins = cashins + 1, amount = amount + excluded.amount;
    END
    """,
    """
    CREATE TRIGGER cashin_all_time_totals_delete AFTER DELETE ON cashins BEGIN
      UPDATE cashin_all_time_totals SET cashins = cashins - 1, amount = amount - OLD.amount
      WHERE status = OLD.status AND reason = OLD.reason AND bank_slug = OLD.bank_slug
        AND created_by_id = OLD.created_by_id;
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS cashin_all_time_totals_delete",
    "DROP TRIGGER IF EXISTS cashin_all_time_totals_update",
    "DROP TRIGGER IF EXISTS cashin_all_time_totals_insert",
    "DROP TRIGGER IF EXISTS bill_all_time_totals_delete",
    "DROP TRIGGER IF EXISTS bill_all_time_totals_update",
    "DROP TRIGGER IF EXISTS bill_all_time_totals_insert",
]

POSTGRES_UP = [
    """
    CREATE FUNCTION bill_all_time_totals_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE bill_all_time_totals SET bills = bills - 1, amount = amount - OLD.amount
        WHERE status = OLD.status AND issued_by_id = OLD.issued_by_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO bill_all_time_totals (status, issued_by_id, bills, amount)
        VALUES (NEW.status, NEW.issued_by_id, 1, NEW.amount)
        ON CONFLICT (status, issued_by_id) DO UPDATE
          SET bills = bill_all_time_totals.bills + 1,
              amount = bill_all_time_totals.amount + EXCLUDED.amount;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER bill_all_time_totals_insert_delete AFTER INSERT OR DELETE ON bills
    FOR EACH ROW EXECUTE FUNCTION bill_all_time_totals_track()
    """,
    """
    CREATE TRIGGER bill_all_time_totals_update
    AFTER UPDATE OF status, amount, issued_by_id ON bills FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount IS DISTINCT FROM NEW.amount
      OR OLD.issued_by_id IS DISTINCT FROM NEW.issued_by_id)
    EXECUTE FUNCTION bill_all_time_totals_track()
    """,
    """
    CREATE FUNCTION cashin_all_time_totals_track() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE cashin_all_time_totals SET cashins = cashins - 1, amount = amount - OLD.amount
        WHERE status = OLD.status AND reason = OLD.reason AND bank_slug = OLD.bank_slug
          AND created_by_id = OLD.created_by_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO cashin_all_time_totals
          (status, reason, bank_slug, created_by_id, cashins, amount)
        VALUES (NEW.status, NEW.reason, NEW.bank_slug, NEW.created_by_id, 1, NEW.amount)
        ON CONFLICT (status, reason, bank_slug, created_by_id) DO UPDATE
          SET cashins = cashin_all_time_totals.cashins + 1,
              amount = cashin_all_time_totals.amount + EXCLUDED.amount;
      END IF;
      RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER cashin_all_time_totals_insert_delete AFTER INSERT OR DELETE ON cashins
    FOR EACH ROW EXECUTE FUNCTION cashin_all_time_totals_track()
    """,
    """
    CREATE TRIGGER cashin_all_time_totals_update
    AFTER UPDATE OF status, amount, reason, bank_slug, created_by_id ON cashins FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount IS DISTINCT FROM NEW.amount
      OR OLD.reason IS DISTINCT FROM NEW.reason OR OLD.bank_slug IS DISTINCT FROM NEW.bank_slug
      OR OLD.created_by_id IS DISTINCT FROM NEW.created_by_id)
    EXECUTE FUNCTION cashin_all_time_totals_track()
    """,
]

POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS cashin_all_time_totals_update ON cashins",
    "DROP TRIGGER IF EXISTS cashin_all_time_totals_insert_delete ON cashins",
    "DROP FUNCTION IF EXISTS cashin_all_time_totals_track()",
    "DROP TRIGGER IF EXISTS bill_all_time_totals_update ON bills",
    "DROP TRIGGER IF EXISTS bill_all_time_totals_insert_delete ON bills",
    "DROP FUNCTION IF EXISTS bill_all_time_totals_track()",
]


def upgrade():
    op.create_table(
        'bill_all_time_totals',
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('bills', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('status', 'issued_by_id', name=op.f('pk_bill_all_time_totals')),
    )
    op.create_table(
        'cashin_all_time_totals',
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(length=20), nullable=False),
        sa.Column('bank_slug', sa.String(length=20), nullable=False),
        sa.Column('created_by_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('cashins', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            'status',
            'reason',
            'bank_slug',
            'created_by_id',
            name=op.f('pk_cashin_all_time_totals'),
        ),
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # The rows do not move while the summaries are filled and the triggers made.
        op.execute("LOCK TABLE bills, cashins IN SHARE ROW EXCLUSIVE MODE")
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(statement)
    op.execute(
        f"INSERT INTO bill_all_time_totals ({BILL_KEYS}, bills, amount) "
        f"SELECT {BILL_KEYS}, sum(bills), sum(amount) FROM bill_month_totals "
        f"GROUP BY {BILL_KEYS}"
    )
    op.execute(
        f"INSERT INTO cashin_all_time_totals ({CASHIN_KEYS}, cashins, amount) "
        f"SELECT {CASHIN_KEYS}, sum(cashins), sum(amount) FROM cashin_month_totals "
        f"GROUP BY {CASHIN_KEYS}"
    )


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table('cashin_all_time_totals')
    op.drop_table('bill_all_time_totals')
