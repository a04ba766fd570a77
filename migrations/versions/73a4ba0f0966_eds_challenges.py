"""eds challenges: one-time challenges for signing in with an EDS

Revision ID: 73a4ba0f0966
Revises: df6c8b69b32c
Create Date: 2026-11-28 03:39:29.155973

"""
from alembic import op
import sqlalchemy as sa


revision = '73a4ba0f0966'
down_revision = 'df6c8b69b32c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'eds_challenge',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('challenge_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_eds_challenge')),
        sa.UniqueConstraint('challenge_hash', name=op.f('uq_eds_challenge_challenge_hash')),
    )
    with op.batch_alter_table('eds_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eds_challenge_expires_at'), ['expires_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('eds_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eds_challenge_expires_at'))
    op.drop_table('eds_challenge')
