"""sealed ballots: a secret code per ballot and the seal of each cycle's ballots

Revision ID: a3e5c1f09b27
Revises: 58c8d2c4bdc4
Create Date: 2026-11-28 07:00:00.000000

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a3e5c1f09b27'
down_revision = '58c8d2c4bdc4'
branch_labels = None
depends_on = None

# As app.tally.seal.new_secret (copied: a migration must not change when the app does).
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _secret():
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(20))
    return "-".join(symbols[i:i + 4] for i in range(0, 20, 4))


def upgrade():
    op.create_table('ballot_seal',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=20), nullable=False),
    sa.Column('root', sa.String(length=64), nullable=False),
    sa.Column('leaves', sa.Integer(), nullable=False),
    sa.Column('leaf_hashes', sa.JSON(), nullable=True),
    sa.Column('sealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_ballot_seal_cycle_id_cycle')),
    sa.PrimaryKeyConstraint('cycle_id', name=op.f('pk_ballot_seal'))
    )
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret', sa.String(length=32), nullable=True))
    # Ballots cast before sealing existed get a secret code too (their voters see it on their
    # receipt page), so that every stored ballot can be sealed.
    bind = op.get_bind()
    ballot = sa.table('ballot', sa.column('id', sa.Integer), sa.column('secret', sa.String))
    ids = [row[0] for row in bind.execute(sa.select(ballot.c.id).where(ballot.c.secret.is_(None)))]
    for ballot_id in ids:
        bind.execute(ballot.update().where(ballot.c.id == ballot_id).values(secret=_secret()))
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.drop_column('secret')

    op.drop_table('ballot_seal')
