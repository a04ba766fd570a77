"""Conclusions of the akimat: the ten-voter minimum, justifications, documents, audit."""
import hashlib
import io
import os

import pytest
from sqlalchemy import func, select

from app.domain import files
from app.domain.conclusions import add_implementation_update, missing_languages, record_conclusion
from app.domain.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Conclusion, Proposal, StoredFile, User
from tests.helpers import catalogue_translation, conclude_all, csrf_token, publish


def _pdf(password=None):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _pdf()  # a real one-page PDF: documents are parsed, not judged by their first bytes


def _conclude(app, user_id, proposal_id, decision, texts=None, **kwargs):
    with app.app_context():
        user = db.session.get(User, user_id)
        conclusion = record_conclusion(user, db.session.get(Proposal, proposal_id), decision,
                                       texts or {}, **kwargs)
        db.session.commit()
        return conclusion.id


def test_approving_nine_voters_is_refused_in_the_domain(app, counted_cycle, staff):
    ids = counted_cycle()
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["D"], "approved", {"ru": "Хотим реализовать."})
    assert caught.value.code == "below_min_voters" and caught.value.status == 422
    assert caught.value.params == {"min": 10, "voters": 9}
    with app.app_context():
        assert db.session.scalar(select(Conclusion)) is None
    # Not approving it is fine (with a reason).
    _conclude(app, staff[0], ids["proposals"]["D"], "not_approved", {"kk": "Оннан аз адам дауыс берді."})


def test_not_approved_needs_a_justification(app, counted_cycle, staff):
    ids = counted_cycle()
    for texts in ({}, {"kk": "   ", "ru": ""}):
        with pytest.raises(DomainError) as caught:
            _conclude(app, staff[0], ids["proposals"]["C"], "not_approved", texts)
        assert caught.value.code == "justification_required"


def test_discretion_both_ways_needs_a_justification(app, counted_cycle, staff):
    ids = counted_cycle()
    # Selected by the vote (A) but not approved: needs a reason.
    with pytest.raises(DomainError):
        _conclude(app, staff[0], ids["proposals"]["A"], "not_approved")
    _conclude(app, staff[0], ids["proposals"]["A"], "not_approved", {"ru": "Участок в госпользовании."})
    # Eligible, not selected (C), approved anyway: the akimat's discretion, with a reason.
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["C"], "approved")
    assert caught.value.code == "justification_required"
    _conclude(app, staff[0], ids["proposals"]["C"], "approved", {"en": "Funded from savings."})
    # Selected and approved: no justification required.
    _conclude(app, staff[0], ids["proposals"]["B"], "approved")


def test_unknown_decision_and_wrong_types(app, counted_cycle, staff):
    ids = counted_cycle()
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["A"], "maybe", {"ru": "…"})
    assert "decision" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["A"], "approved", {"ru": 12})
    assert "justification_ru" in caught.value.fields


def test_only_staff_of_the_territory_and_only_in_closed(app, counted_cycle, make_user, staff):
    ids = counted_cycle()
    resident, _ = make_user()
    astana_staff, _ = make_user(role="staff", territory="710000000")
    for user_id in (resident, astana_staff):
        with pytest.raises(NotAllowed):
            _conclude(app, user_id, ids["proposals"]["A"], "approved")
    voting = counted_cycle(phase="voting")
    with pytest.raises(Conflict) as caught:
        _conclude(app, staff[0], voting["proposals"]["A"], "approved")
    assert caught.value.code == "wrong_phase"


def test_conclusion_is_audited_and_missing_languages_reported(app, counted_cycle, staff):
    ids = counted_cycle()
    _conclude(app, staff[0], ids["proposals"]["C"], "not_approved", {"ru": "Не вошло в бюджет."})
    _conclude(app, staff[0], ids["proposals"]["C"], "not_approved", {"ru": "Не вошло.", "kk": "Бюджетке сыймады."})
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "conclusion.record")
                                     .order_by(AuditEntry.id)).all()
        assert len(entries) == 2
        assert entries[0].before is None and entries[0].after["justification_ru"] == "Не вошло в бюджет."
        assert entries[1].before["justification_ru"] == "Не вошло в бюджет."
        assert entries[1].actor_id == staff[0]
        conclusion = db.session.scalar(select(Conclusion))
        assert missing_languages(conclusion) == ["en"]


def _stored_files(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StoredFile))


def test_pdf_document_checked_and_stored_in_the_database(app, counted_cycle, staff):
    ids = counted_cycle()
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["A"], "approved", document=b"<html>not a pdf")
    assert "document" in caught.value.fields
    with pytest.raises(DomainError):
        _conclude(app, staff[0], ids["proposals"]["A"], "approved",
                  document=io.BytesIO(PDF + b"0" * (10 * 1024 * 1024)))
    assert _stored_files(app) == 0
    _conclude(app, staff[0], ids["proposals"]["A"], "approved", document=io.BytesIO(PDF),
              document_number="№ 123-р")
    with app.app_context():
        conclusion = db.session.scalar(select(Conclusion))
        assert conclusion.document_number == "№ 123-р" and conclusion.has_document
        assert conclusion.document.content_type == "application/pdf"
        assert files.read(conclusion.document) == PDF
        assert conclusion.document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not os.path.exists(app.config["UPLOAD_DIR"])


BROKEN_PDFS = {
    "header only": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "truncated": PDF[:len(PDF) // 2],
    "header and garbage": b"%PDF-1.7\n" + bytes(range(256)) * 8,
}
DAMAGED = "The PDF is damaged and cannot be read."
ENCRYPTED = "The PDF is protected with a password or encrypted: upload it without protection."


@pytest.mark.parametrize("name", list(BROKEN_PDFS))
def test_broken_pdf_is_refused(app, counted_cycle, staff, tmp_path, name):
    ids = counted_cycle()
    with pytest.raises(DomainError) as caught:
        _conclude(app, staff[0], ids["proposals"]["A"], "approved",
                  document=io.BytesIO(BROKEN_PDFS[name]))
    assert caught.value.fields["document"] == [(DAMAGED, {})]
    assert _stored_files(app) == 0


def test_encrypted_pdf_is_refused_with_a_translated_message(app, client, auth, counted_cycle, staff):
    ids = counted_cycle()
    auth.login(staff[1], lang="kk")
    url = f"/kk/staff/proposals/{ids['proposals']['A']}/conclusion"
    page = client.get(url)
    response = client.post(url, data={
        "decision": "approved", "justification_ru": "Одобрено.", "csrf_token": csrf_token(page),
        "document": (io.BytesIO(_pdf(password="secret")), "signed.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert catalogue_translation(ENCRYPTED, "kk") in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Conclusion)) is None
    assert catalogue_translation(DAMAGED, "kk") and catalogue_translation(DAMAGED, "ru")


def test_replaced_pdf_is_deleted_in_the_same_transaction(app, counted_cycle, staff):
    ids = counted_cycle()
    _conclude(app, staff[0], ids["proposals"]["A"], "approved", document=io.BytesIO(PDF))
    with app.app_context():
        first = db.session.scalar(select(Conclusion)).document_file_id
    second_pdf = _pdf()
    _conclude(app, staff[0], ids["proposals"]["A"], "approved", document=io.BytesIO(second_pdf))
    with app.app_context():
        conclusion = db.session.scalar(select(Conclusion))
        second = conclusion.document_file_id
        assert second != first and files.get(first) is None
        assert db.session.scalars(select(StoredFile.id)).all() == [second]
        # The audit entry names both documents by their SHA-256.
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "conclusion.record")
                                   .order_by(AuditEntry.id.desc())).first()
        assert entry.before["document_sha256"] == hashlib.sha256(PDF).hexdigest()
        assert entry.after["document_sha256"] == hashlib.sha256(second_pdf).hexdigest()
    # Recording again without a new document keeps the one there is.
    _conclude(app, staff[0], ids["proposals"]["A"], "approved")
    with app.app_context():
        assert db.session.scalar(select(Conclusion)).document_file_id == second


def test_published_pdf_is_served_with_its_hash_as_etag(app, client, counted_cycle, staff):
    ids = counted_cycle()
    conclude_all(app, ids, staff[0])
    _conclude(app, staff[0], ids["proposals"]["A"], "approved", {"ru": "Одобрено."},
              document=io.BytesIO(PDF))
    url = f"/proposals/{ids['proposals']['A']}/conclusion.pdf"
    assert client.get(url).status_code == 403  # not published yet: as before
    publish(app, ids, staff[0])
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "application/pdf"
    assert served.get_data() == PDF and served.headers["ETag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert 'filename="conclusion-' in served.headers["Content-Disposition"]
    assert client.get(url, headers={"If-None-Match": served.headers["ETag"]}).status_code == 304
    assert client.get(f"/proposals/{ids['proposals']['B']}/conclusion.pdf").status_code == 404


BELOW_MIN = ("This proposal cannot be approved for implementation: fewer residents voted for it "
             "than the minimum of %(min)s (voters from the territory: %(voters)s).")


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_page_refuses_approving_nine_voters(app, client, auth, counted_cycle, staff, lang):
    ids = counted_cycle()
    auth.login(staff[1], lang=lang)
    url = f"/{lang}/staff/proposals/{ids['proposals']['D']}/conclusion"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, data={"decision": "approved", "justification_ru": "Хотим.",
                                      "csrf_token": csrf_token(page)})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    expected = (BELOW_MIN % {"min": 10, "voters": 9} if lang == "en"
                else catalogue_translation(BELOW_MIN, lang, min=10, voters=9))
    assert expected in text
    assert 'id="decision-error"' in text
    with app.app_context():
        assert db.session.scalar(select(Conclusion)) is None


def test_page_records_a_conclusion_and_lists_missing_languages(app, client, auth, counted_cycle, staff):
    ids = counted_cycle()
    auth.login(staff[1])
    url = f"/en/staff/proposals/{ids['proposals']['A']}/conclusion"
    page = client.get(url)
    response = client.post(url, data={
        "decision": "approved", "justification_ru": "Одобрено.", "document_number": "17",
        "document_date": "2026-10-05", "csrf_token": csrf_token(page),
        "document": (io.BytesIO(PDF), "signed.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    listing = client.get(f"/en/staff/cycles/{ids['cycle']}/conclusions").get_data(as_text=True)
    assert "Қазақша" in listing and "English" in listing  # missing languages of A's text
    assert "3 admitted proposals have no conclusion yet" in listing
    # No publish button that could only fail: a link to each missing conclusion instead.
    assert "Publish the results" not in listing
    assert f'href="/en/staff/proposals/{ids["proposals"]["B"]}/conclusion">Write the conclusion' in listing
    with app.app_context():
        conclusion = db.session.scalar(select(Conclusion))
        assert conclusion.document_date.isoformat() == "2026-10-05"
        assert files.read(conclusion.document) == PDF and conclusion.document_filename is None
    # The author hears about it, in their own language (Russian here).
    outbox = app.extensions["outbox"]
    assert outbox and outbox[-1].recipients == ["author@example.kz"]


def test_conclusion_pages_are_staff_only(client, auth, counted_cycle, make_user):
    ids = counted_cycle()
    _, iin = make_user()
    assert client.get(f"/en/staff/cycles/{ids['cycle']}/conclusions").status_code == 302  # to login
    auth.login(iin)
    assert client.get(f"/en/staff/cycles/{ids['cycle']}/conclusions").status_code == 403
    assert client.get(f"/en/staff/proposals/{ids['proposals']['A']}/conclusion").status_code == 403


def test_implementation_updates_only_for_approved_published(app, counted_cycle, staff):
    from datetime import date

    ids = counted_cycle()
    with app.app_context():
        user, proposal = db.session.get(User, staff[0]), db.session.get(Proposal, ids["proposals"]["A"])
        with pytest.raises(Conflict):  # not published yet
            add_implementation_update(user, proposal, "planned", date(2026, 11, 1))
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    with app.app_context():
        user = db.session.get(User, staff[0])
        approved = db.session.get(Proposal, ids["proposals"]["A"])
        declined = db.session.get(Proposal, ids["proposals"]["C"])
        add_implementation_update(user, approved, "procurement", date(2026, 11, 1), "Тендер объявлен")
        with pytest.raises(DomainError) as caught:
            add_implementation_update(user, approved, "cancelled", date(2026, 11, 2), "")
        assert "note" in caught.value.fields
        with pytest.raises(Conflict) as caught:
            add_implementation_update(user, declined, "planned", date(2026, 11, 1))
        assert caught.value.code == "not_approved"
        db.session.commit()


def test_implementation_page(client, auth, app, counted_cycle, staff):
    ids = counted_cycle()
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    auth.login(staff[1])
    url = f"/en/staff/proposals/{ids['proposals']['A']}/implementation"
    page = client.get(url)
    response = client.post(url, data={"status": "works", "on_date": "2027-04-01",
                                      "note_en": "Works started", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    results = client.get(f"/en/cycles/{ids['cycle']}/results").get_data(as_text=True)
    assert "Works under way" in results and "Works started" in results
