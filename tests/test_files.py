"""Uploaded files in the database (app.domain.files): one transaction with the rows that own
them, and the import of files that lived on disk before."""
import hashlib

import pytest
from sqlalchemy import func, select

from app.domain import files
from app.extensions import db
from app.models import Conclusion, Proposal, ProposalPhoto, StoredFile
from tests.helpers import conclude_all, image_bytes, publish

PDF = b"%PDF-1.4 a signed conclusion"


def _count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StoredFile))


def test_save_read_and_delete(app):
    with app.app_context():
        stored = files.save(b"\x89PNG bytes", "image/png")
        assert stored.id and stored.size == 10 and stored.sha256 == hashlib.sha256(b"\x89PNG bytes").hexdigest()
        db.session.commit()
        file_id = stored.id
    with app.app_context():
        meta = files.get(file_id)
        assert "data" not in meta.__dict__  # the bytes are not loaded with the row
        assert files.read(meta) == b"\x89PNG bytes" and files.read(file_id) == b"\x89PNG bytes"
        assert files.get(2**40) is None and files.read(-1) is None
        files.delete(meta)
        db.session.commit()
    assert _count(app) == 0
    with app.app_context(), pytest.raises(ValueError):
        files.save(b"", "image/png")


def test_a_failed_transaction_leaves_no_file(app, make_cycle, make_user):
    """What the disk could not do: the file and the row that refers to it commit or vanish together."""
    from app.domain import proposals
    from app.models import Cycle, User

    cycle_id = make_cycle(phase="proposals")
    author_id, _ = make_user()
    with app.app_context():
        proposals.submit_proposal(db.session.get(User, author_id), db.session.get(Cycle, cycle_id),
                                  {"title": "Скамейки во дворе", "description": "Пять скамеек.",
                                   "category": "parks", "cost": 1_000_000},
                                  photos=[image_bytes("PNG")])
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1
        db.session.rollback()  # e.g. the request failed after the photo was stored
    assert _count(app) == 0


def test_import_disk_copies_old_files_once_and_names_the_missing(app, runner, counted_cycle, staff,
                                                                  make_proposal, tmp_path):
    ids = counted_cycle()
    conclude_all(app, ids, staff[0])
    photo_bytes = image_bytes("JPEG")
    disk = tmp_path / "old-uploads"
    (disk / "conclusions").mkdir(parents=True)
    (disk / "a1.jpg").write_bytes(photo_bytes)
    (disk / "conclusions" / "c1.pdf").write_bytes(PDF)
    with app.app_context():
        proposal = db.session.get(Proposal, ids["proposals"]["A"])
        proposal.photos.append(ProposalPhoto(filename="a1.jpg", width=10, height=10))
        proposal.photos.append(ProposalPhoto(filename="gone.jpg", width=10, height=10))
        proposal.conclusion.document_filename = "c1.pdf"  # as the disk-era code stored it
        db.session.commit()
    publish(app, ids, staff[0])  # published conclusions are frozen: the import still works

    result = runner.invoke(args=["files", "import-disk", "--upload-dir", str(disk)])
    assert result.exit_code == 1, result.output
    assert "2 files imported" in result.output and "missing on disk: gone.jpg" in result.output
    with app.app_context():
        conclusion = db.session.get(Proposal, ids["proposals"]["A"]).conclusion
        assert files.read(conclusion.document_file_id) == PDF
        photo = db.session.scalar(select(ProposalPhoto).where(ProposalPhoto.filename == "a1.jpg"))
        assert files.read(photo.file) == photo_bytes and photo.file.content_type == "image/jpeg"
    again = runner.invoke(args=["files", "import-disk", "--upload-dir", str(disk)])
    assert "0 files imported" in again.output and _count(app) == 2

    client = app.test_client()
    served = client.get(f"/en/proposals/{ids['proposals']['A']}/photos/a1.jpg")
    assert served.status_code == 200 and served.get_data() == photo_bytes
    assert client.get(f"/proposals/{ids['proposals']['A']}/conclusion.pdf").get_data() == PDF
    assert client.get(f"/en/proposals/{ids['proposals']['A']}/photos/gone.jpg").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Conclusion.document_filename)
                                 .where(Conclusion.proposal_id == ids["proposals"]["A"])) == "c1.pdf"
