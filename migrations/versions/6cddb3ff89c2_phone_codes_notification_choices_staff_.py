"""phone codes, notification choices, staff second factor, sign-in method on tokens

Revision ID: 6cddb3ff89c2
Revises: a3e5c1f09b27
Create Date: 2026-11-28 06:37:22.378844

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '6cddb3ff89c2'
down_revision = 'a3e5c1f09b27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phone_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_phone_code_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_code'))
    )
    with op.batch_alter_table('phone_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_code_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recovery_code_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_in_with', sa.String(length=16), nullable=True))

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('notify_proposals', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_results', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_confirmed_phone'), ['confirmed_phone'])



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_confirmed_phone'), type_='unique')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_confirmed_at')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('notify_results')
        batch_op.drop_column('notify_proposals')
        batch_op.drop_column('confirmed_phone')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('signed_in_with')

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('phone_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_code_user_id'))

    op.drop_table('phone_code')
