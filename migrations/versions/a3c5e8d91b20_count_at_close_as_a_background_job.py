"""count at close as a background job: its state on the cycle; exact MES prices of any length

Revision ID: a3c5e8d91b20
Revises: 6cddb3ff89c2
Create Date: 2026-11-28 07:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3c5e8d91b20'
down_revision = '6cddb3ff89c2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count_state', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('count_progress', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('count_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('count_error', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('count_changed_at', sa.DateTime(timezone=True), nullable=True))
    # Cycles counted before: their count is done.
    op.execute("UPDATE cycle SET count_state = 'done', count_progress = 100, count_attempts = 1 "
               "WHERE counted_at IS NOT NULL")
    # An exact price per voter (a fraction) outgrows 60 characters with many voters.
    with op.batch_alter_table('proposal_result', schema=None) as batch_op:
        batch_op.alter_column('price_per_voter', existing_type=sa.String(length=60), type_=sa.Text(),
                              existing_nullable=True)


def downgrade():
    with op.batch_alter_table('proposal_result', schema=None) as batch_op:
        batch_op.alter_column('price_per_voter', existing_type=sa.Text(), type_=sa.String(length=60),
                              existing_nullable=True)
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('count_changed_at')
        batch_op.drop_column('count_error')
        batch_op.drop_column('count_attempts')
        batch_op.drop_column('count_progress')
        batch_op.drop_column('count_state')
