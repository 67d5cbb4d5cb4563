"""shop QR: posters customers scan to pay by themselves; bills marked with their poster

Revision ID: g19c3c0ffee3
Revises: g19b2c0ffee2
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'g19c3c0ffee3'
down_revision = 'g19b2c0ffee2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'posters',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=16), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('offers_items', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('replaced_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_posters_user_id_users')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_posters_created_by_id_users')),
        sa.ForeignKeyConstraint(['replaced_by_id'], ['posters.id'], name=op.f('fk_posters_replaced_by_id_posters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_posters')),
        sa.UniqueConstraint('token', name=op.f('uq_posters_token')),
    )
    op.create_index(op.f('ix_posters_user_id'), 'posters', ['user_id'])
    # Plain ADD COLUMN (no batch mode): see the customers migration.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE bills ADD COLUMN poster_id INTEGER REFERENCES posters (id)')
    else:
        op.add_column('bills', sa.Column('poster_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_bills_poster_id_posters', 'bills', 'posters', ['poster_id'], ['id'])
    op.create_index(op.f('ix_bills_poster_id'), 'bills', ['poster_id'])


def downgrade():
    op.drop_index(op.f('ix_bills_poster_id'), table_name='bills')
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('poster_id')
    op.drop_table('posters')
