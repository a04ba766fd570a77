"""identity level, residence status, cycle assurance requirements

Existing accounts become `password` / `declared` and existing cycles accept `password`, which
is what they accepted before; territory_id may be empty between a first EDS sign-in and the
resident choosing their home.

Revision ID: c43ae3040432
Revises: 5b1e0c7d2a91
Create Date: 2026-11-28 04:24:35.856951

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c43ae3040432'
down_revision = '5b1e0c7d2a91'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'min_assurance_propose', sa.String(length=10), server_default='password', nullable=False))
        batch_op.add_column(sa.Column(
            'min_assurance_vote', sa.String(length=10), server_default='password', nullable=False))
        batch_op.add_column(sa.Column(
            'residence_verified_to_vote', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'assurance', sa.String(length=10), server_default='password', nullable=False))
        batch_op.add_column(sa.Column(
            'residence', sa.String(length=10), server_default='declared', nullable=False))
        batch_op.add_column(sa.Column(
            'residence_verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column(
            'residence_document', sa.String(length=20), nullable=True))
        batch_op.alter_column('territory_id',
               existing_type=sa.INTEGER(),
               nullable=True)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('territory_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('residence_document')
        batch_op.drop_column('residence_verified_at')
        batch_op.drop_column('residence')
        batch_op.drop_column('assurance')

    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('residence_verified_to_vote')
        batch_op.drop_column('min_assurance_vote')
        batch_op.drop_column('min_assurance_propose')
