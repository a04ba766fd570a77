"""Uploaded files, stored in the database: the one place that writes and reads them.

Why the database and not a disk or an object store: every app server must serve every photo and
signed PDF, and a file must exist exactly when the row that refers to it does. A `stored_file`
row is written in the request's transaction, so a failed request leaves no file behind and a
committed one is visible to every host at once; deleting the referring row (with its
`delete-orphan` relationship) deletes the file in the same commit. Files are small (photos are
re-encoded to at most 2000 px, a few hundred KB; PDFs at most 10 MB), so PostgreSQL's `bytea`
holds them without another service to run, back up and secure. See README, "Several app
servers, and faults".

    stored = files.save(data, "image/jpeg")   # flushed: stored.id, stored.sha256 are set
    files.get(file_id)                        # the row without its bytes (None if unknown)
    files.read(stored)                        # the bytes
    files.delete(stored)                      # or drop the relationship that owns it

Rows that own a file refer to it by a foreign key and a relationship with
`cascade="all, delete-orphan", single_parent=True` (ProposalPhoto.file, Conclusion.document).
Serving (ETag by content hash, 304, Cache-Control) is app.files.send_stored_file.
"""
import hashlib
from pathlib import Path

from sqlalchemy import select

from app.domain import records
from app.extensions import db
from app.models import Conclusion, ProposalPhoto, StoredFile

# Upper bound for any stored file; callers check their own, lower limits with a clear message.
MAX_BYTES = 25 * 1024 * 1024


def save(data, content_type):
    """Store these bytes in the current transaction; returns the flushed StoredFile."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ValueError("a stored file needs some bytes")
    if len(data) > MAX_BYTES:
        raise ValueError(f"a stored file is at most {MAX_BYTES} bytes")
    data = bytes(data)
    stored = StoredFile(sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
                        size=len(data), data=data)
    db.session.add(stored)
    db.session.flush()
    return stored


def get(file_id):
    """The file's row (id, sha256, content type, size) without loading its bytes, or None."""
    return records.get(StoredFile, file_id)


def read(stored):
    """The bytes of a StoredFile (or of the file with this id); None if there is none."""
    if isinstance(stored, StoredFile):
        stored = stored.id
    if not records.valid_id(stored):
        return None
    return db.session.scalar(select(StoredFile.data).where(StoredFile.id == stored))


def delete(stored):
    """Delete a file nothing refers to any more (in the current transaction)."""
    if stored is not None:
        db.session.delete(stored)


# --- files from before: on disk under UPLOAD_DIR ----------------------------------------------

def import_disk(upload_dir):
    """Copy the photos and signed PDFs that rows still name on disk into the database.

    Idempotent: only rows without a stored file are looked at; a file missing on disk is
    reported, not invented. Returns (imported, missing names). The caller commits. Conclusions
    of published cycles are frozen for the ORM: their file id is set with a plain UPDATE, which
    changes no published value (the document's bytes are the same)."""
    folder = Path(upload_dir)
    imported, missing = 0, []
    photos = db.session.scalars(select(ProposalPhoto).where(ProposalPhoto.file_id.is_(None))).all()
    for photo in photos:
        data = _read_file(folder, photo.filename)
        if data is None:
            missing.append(photo.filename)
            continue
        photo.file = save(data, "image/jpeg")
        imported += 1
    db.session.flush()
    rows = db.session.execute(select(Conclusion.id, Conclusion.document_filename).where(
        Conclusion.document_file_id.is_(None), Conclusion.document_filename.is_not(None))).all()
    table = Conclusion.__table__
    for conclusion_id, name in rows:
        data = _read_file(folder / "conclusions", name)
        if data is None:
            missing.append(f"conclusions/{name}")
            continue
        stored = save(data, "application/pdf")
        db.session.execute(table.update().where(table.c.id == conclusion_id)
                           .values(document_file_id=stored.id))
        imported += 1
    return imported, missing


def _read_file(folder, name):
    # Names come from our own rows (random hex); refuse anything that would leave the folder.
    if not name or name != Path(name).name or name in (".", ".."):
        return None
    path = folder / name
    return path.read_bytes() if path.is_file() else None
