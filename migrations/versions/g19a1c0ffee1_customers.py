"""customers: a directory derived from bills' payers, their identifiers and search terms

Revision ID: g19a1c0ffee1
Revises: e18a1b2c0014
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'g19a1c0ffee1'
down_revision = 'e18a1b2c0014'
branch_labels = None
depends_on = None

TERM = sa.String(160).with_variant(sa.String(160, collation="C"), "postgresql")


def upgrade():
    op.create_table(
        'customers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=160), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_bill_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_bill_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('bills_count', sa.Integer(), nullable=False),
        sa.Column('paid_amount', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    )
    op.create_index(op.f('ix_customers_last_bill_at'), 'customers', ['last_bill_at'])
    op.create_table(
        'customer_identifiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value', sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_identifiers_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_identifiers')),
    )
    op.create_index(op.f('ix_customer_identifiers_customer_id'), 'customer_identifiers', ['customer_id'])
    op.create_index('uq_customer_identifiers_kind_value', 'customer_identifiers', ['kind', 'value'], unique=True)
    op.create_table(
        'customer_terms',
        sa.Column('term', TERM, nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_terms_customer_id_customers')),
        sa.PrimaryKeyConstraint('term', 'customer_id', name=op.f('pk_customer_terms')),
    )
    op.create_index(op.f('ix_customer_terms_customer_id'), 'customer_terms', ['customer_id'])
    # Plain ADD COLUMN (no batch mode): a batch rebuild of bills on SQLite would drop the
    # triggers that keep bill_day_totals and the search index in step.
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite adds a column with its reference in place (alembic would want a batch).
        op.execute('ALTER TABLE bills ADD COLUMN customer_id INTEGER REFERENCES customers (id)')
    else:
        op.add_column('bills', sa.Column('customer_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_bills_customer_id_customers', 'bills', 'customers', ['customer_id'], ['id'])
    op.create_index(op.f('ix_bills_customer_id'), 'bills', ['customer_id'])
    # Bills issued before the directory existed are linked by `flask customers rebuild`.


def downgrade():
    op.drop_index(op.f('ix_bills_customer_id'), table_name='bills')
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('customer_id')
    op.drop_table('customer_terms')
    op.drop_table('customer_identifiers')
    op.drop_table('customers')
