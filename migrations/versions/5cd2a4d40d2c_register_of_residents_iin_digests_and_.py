"""register of residents (IIN digests and units)

Revision ID: 5cd2a4d40d2c
Revises: c43ae3040432
Create Date: 2026-11-28 04:38:36.369518

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5cd2a4d40d2c'
down_revision = 'c43ae3040432'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registered_resident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iin_hmac', sa.String(length=64), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'],
                            name=op.f('fk_registered_resident_territory_id_territory')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registered_resident')),
    sa.UniqueConstraint('iin_hmac', name=op.f('uq_registered_resident_iin_hmac'))
    )
    with op.batch_alter_table('registered_resident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registered_resident_territory_id'), ['territory_id'], unique=False)


def downgrade():
    with op.batch_alter_table('registered_resident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registered_resident_territory_id'))

    op.drop_table('registered_resident')
