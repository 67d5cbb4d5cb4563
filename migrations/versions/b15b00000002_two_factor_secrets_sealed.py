"""users: two-factor secrets sealed at rest (room for the sealed form; existing ones sealed)

Revision ID: b15b00000002
Revises: b15a00000001
Create Date: 2026-12-05 11:00:00

The key is derived from the app's configuration (TOTP_KEY, else SECRET_KEY; see
dashboard/auth/sealing.py), so run this with the production configuration in place
(``flask --app wsgi db upgrade``). Downgrading opens them again (with the same configuration).
"""
import re

from alembic import op
import sqlalchemy as sa
from flask import current_app

from dashboard.auth.sealing import seal, unseal


# revision identifiers, used by Alembic.
revision = 'b15b00000002'
down_revision = 'b15a00000001'
branch_labels = None
depends_on = None

COLUMNS = ('totp_secret', 'totp_pending_secret')
PLAIN = re.compile(r'[A-Z2-7]+=*')  # a base32 secret as pyotp issues it
users = sa.table('users', sa.column('id', sa.Integer), *(sa.column(c, sa.String) for c in COLUMNS))


def _rewrite(change):
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, *(users.c[c] for c in COLUMNS))).all()
    for row in rows:
        values = {c: change(getattr(row, c)) for c in COLUMNS if getattr(row, c) is not None}
        values = {c: v for c, v in values.items() if v != getattr(row, c)}
        if values:
            conn.execute(sa.update(users).where(users.c.id == row.id).values(**values))


def _resize(old, new):
    # SQLite does not enforce a VARCHAR's length: no rebuild of users there.
    if op.get_bind().dialect.name != 'sqlite':
        for column in COLUMNS:
            op.alter_column(
                'users', column, existing_type=sa.String(length=old), type_=sa.String(length=new)
            )


def upgrade():
    _resize(64, 255)
    config = current_app.config
    _rewrite(lambda value: seal(value, config) if PLAIN.fullmatch(value) else value)


def downgrade():
    config = current_app.config
    _rewrite(lambda value: value if PLAIN.fullmatch(value) else unseal(value, config))
    _resize(255, 64)
