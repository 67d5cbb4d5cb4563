"""cash-ins: a refund's warning that it does not go to the payer's account; longer approval reasons

Revision ID: c15a0b2e0014
Revises: d15a0c1b0014
Create Date: 2026-12-06 10:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c15a0b2e0014'
down_revision = 'd15a0c1b0014'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: no batch rebuild needed on SQLite.
    op.add_column('cashins', sa.Column('account_warning', sa.Text(), nullable=True))
    # Several reasons, one naming the payer's bank and account, pass 200 characters. SQLite does
    # not enforce VARCHAR lengths, so only the other databases need the wider type.
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column(
            'cashins', 'approval_reason', type_=sa.Text(), existing_type=sa.String(length=200)
        )


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column(
            'cashins', 'approval_reason', type_=sa.String(length=200), existing_type=sa.Text()
        )
    with op.batch_alter_table('cashins', schema=None) as batch_op:
        batch_op.drop_column('account_warning')
