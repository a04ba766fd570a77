"""territory bounding boxes (optional, from the territories import)

Revision ID: a19e0c5b7d21
Revises: f7c98719133b
Create Date: 2026-11-28 06:45:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a19e0c5b7d21'
down_revision = 'f7c98719133b'
branch_labels = None
depends_on = None

CORNERS = ('min_lat', 'min_lon', 'max_lat', 'max_lon')


def upgrade():
    with op.batch_alter_table('territory', schema=None) as batch_op:
        for name in CORNERS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('territory', schema=None) as batch_op:
        for name in reversed(CORNERS):
            batch_op.drop_column(name)
