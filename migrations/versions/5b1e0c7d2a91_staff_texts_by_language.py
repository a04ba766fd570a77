"""staff texts by language: review reasons and implementation notes in kk, ru and en

Revision ID: 5b1e0c7d2a91
Revises: 73a4ba0f0966
Create Date: 2026-11-28 04:40:00

The one `proposal.review_reason` and `implementation_update.note` become three columns each.
Existing text goes into the column of the language it was written in, told by its letters
(app.domain.texts.guess_language, repeated here so the migration never changes with the app):
any Kazakh letter (ә ғ қ ң ө ұ ү һ і) → kk, other Cyrillic → ru, anything else → en. The other
two columns stay empty, and pages show the text with a "shown in …" note. Downgrading keeps
one text per row: the first of ru, kk, en that has one.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = '5b1e0c7d2a91'
down_revision = '73a4ba0f0966'
branch_labels = None
depends_on = None

LANGUAGES = ("kk", "ru", "en")
KAZAKH = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
CYRILLIC = re.compile("[а-яА-ЯёЁ]")
SPLIT = (("proposal", "review_reason"), ("implementation_update", "note"))


def _language(text):
    if KAZAKH.search(text):
        return "kk"
    if CYRILLIC.search(text):
        return "ru"
    return "en"


def upgrade():
    bind = op.get_bind()
    for table, name in SPLIT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for lang in LANGUAGES:
                batch_op.add_column(sa.Column(f'{name}_{lang}', sa.Text(), nullable=False, server_default=''))
        rows = bind.execute(sa.text(f"SELECT id, {name} FROM {table} WHERE {name} <> ''")).all()
        for row_id, text in rows:
            bind.execute(sa.text(f"UPDATE {table} SET {name}_{_language(text)} = :text WHERE id = :id"),
                         {"text": text, "id": row_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            for lang in LANGUAGES:
                batch_op.alter_column(f'{name}_{lang}', server_default=None)
            batch_op.drop_column(name)


def downgrade():
    bind = op.get_bind()
    for table, name in SPLIT:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=''))
        bind.execute(sa.text(
            f"UPDATE {table} SET {name} = CASE WHEN {name}_ru <> '' THEN {name}_ru "
            f"WHEN {name}_kk <> '' THEN {name}_kk ELSE {name}_en END"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(name, server_default=None)
            for lang in LANGUAGES:
                batch_op.drop_column(f'{name}_{lang}')
