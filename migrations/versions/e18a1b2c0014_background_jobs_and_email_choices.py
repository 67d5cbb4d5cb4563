"""background work: the jobs outbox, periodic task claims; users' language and e-mail choices

Revision ID: e18a1b2c0014
Revises: a16b0c1d0016
Create Date: 2026-12-10 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import dashboard.db


# revision identifiers, used by Alembic.
revision = "e18a1b2c0014"
down_revision = "a16b0c1d0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", dashboard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_after", dashboard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_jobs_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"])
    op.create_index(
        "ix_jobs_kind_recipient_created_at", "jobs", ["kind", "recipient_id", "created_at"]
    )
    op.create_table(
        "periodic_tasks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("claimed_period", sa.BigInteger(), nullable=False),
        sa.Column("claimed_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_period", sa.BigInteger(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("last_run_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_tasks")),
    )
    # Plain ADD COLUMN (no batch rebuild of users).
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))
    op.add_column("users", sa.Column("email_choices", sa.JSON(), nullable=True))
    op.add_column(
        "users",
        sa.Column("approval_mail_at", dashboard.db.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("approval_mail_at")
        batch.drop_column("email_choices")
        batch.drop_column("language")
    op.drop_table("periodic_tasks")
    op.drop_index("ix_jobs_kind_recipient_created_at", table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
