"""uploaded files stored in the database

Photos and signed PDFs move from UPLOAD_DIR into `stored_file` (app/domain/files.py). Existing
files are copied by `flask --app wsgi files import-disk` after this upgrade (`make migrate`
runs it): rows keep their names, so the command finds them.

Revision ID: b4e1512a1e6e
Revises: a19e0c5b7d21
Create Date: 2026-11-28 06:38:12.166122

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b4e1512a1e6e'
down_revision = 'a19e0c5b7d21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file'))
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_sha256'), ['sha256'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # JPEG and PDF do not compress: store them out of line without trying (TOAST EXTERNAL).
        op.execute("ALTER TABLE stored_file ALTER COLUMN data SET STORAGE EXTERNAL")

    with op.batch_alter_table('conclusion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_file_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_conclusion_document_file_id'), ['document_file_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conclusion_document_file_id_stored_file'), 'stored_file',
                                    ['document_file_id'], ['id'])

    with op.batch_alter_table('proposal_photo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposal_photo_file_id'), ['file_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposal_photo_file_id_stored_file'), 'stored_file',
                                    ['file_id'], ['id'])



def downgrade():
    with op.batch_alter_table('proposal_photo', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposal_photo_file_id_stored_file'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposal_photo_file_id'))
        batch_op.drop_column('file_id')

    with op.batch_alter_table('conclusion', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conclusion_document_file_id_stored_file'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_conclusion_document_file_id'))
        batch_op.drop_column('document_file_id')

    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_file_sha256'))

    op.drop_table('stored_file')
