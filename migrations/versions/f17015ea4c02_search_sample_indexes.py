"""search: trigram indexes on one row in eight, to tell a broad search cheaply (PostgreSQL)

Revision ID: f17015ea4c02
Revises: f1701a0a0001
Create Date: 2026-12-07 19:00:00

A list with a search counts at most 1 001 matches and says "more than 1 000" past it. On
PostgreSQL that count is a bitmap of the trigram index, and building the bitmap costs what all
the matches cost: tens of thousands for a common first name in a million bills. Each searched
table gets a second trigram index on the same expression for the rows whose id is a multiple of
eight: when one row in eight already holds 1 001 matches, the whole table holds more, at an
eighth of the index read (dashboard/search.py, TextIndex.sample). Fewer there: the whole index
is read, as before. SQLite needs none: its FTS5 table alone is counted.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f17015ea4c02'
down_revision = 'f1701a0a0001'
branch_labels = None
depends_on = None


# The predicate must read as dashboard/search.py writes it (``id % 8 = 0``), for the planner
# to see that the index holds every row the query asks for.
POSTGRES_UP = [
    """
    CREATE INDEX ix_bills_search_trgm_sample ON bills USING gin
      (bill_search_text(merchant_reference, code, payer, description) gin_trgm_ops)
      WHERE id % 8 = 0
    """,
    """
    CREATE INDEX ix_cashins_search_trgm_sample ON cashins USING gin
      (cashin_search_text(holder_name, account, merchant_reference, gateway_reference)
       gin_trgm_ops)
      WHERE id % 8 = 0
    """,
    "CREATE INDEX ix_audit_events_actor_label_trgm_sample ON audit_events USING gin"
    " (lower(actor_label) gin_trgm_ops) WHERE id % 8 = 0",
]

POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_audit_events_actor_label_trgm_sample",
    "DROP INDEX IF EXISTS ix_cashins_search_trgm_sample",
    "DROP INDEX IF EXISTS ix_bills_search_trgm_sample",
]


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRES_UP:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for statement in POSTGRES_DOWN:
            op.execute(statement)
