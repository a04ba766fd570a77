"""Proposals: who may propose where and when, validation, sanitising, photos, editing, lists."""
import hashlib
import io
import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.domain import proposals as proposal_domain
from app.domain.errors import Conflict, NotAllowed, ValidationFailed
from app.extensions import db
from app.models import Cycle, Proposal, ProposalPhoto, StoredFile, User
from tests.helpers import catalogue_translation, csrf_token, image_bytes, login

GOOD = {"title": "Освещение улицы Жандосова", "description": "Поставить 12 фонарей вдоль тротуара.",
        "category": "lighting", "cost": 12_000_000, "address": "ул. Жандосова, 40–60"}


def good(**overrides):
    values = dict(GOOD)
    values.update(overrides)
    return values


def submit(app, cycle_id, user_id, photos=(), **overrides):
    with app.app_context():
        proposal = proposal_domain.submit_proposal(
            db.session.get(User, user_id), db.session.get(Cycle, cycle_id), good(**overrides), photos=photos,
            language="ru")
        db.session.commit()
        return proposal.id


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Proposal.id)))


@pytest.mark.parametrize("cycle_unit, home", [
    ("750000000", "751410000"),   # a district of the city
    ("750000000", "750000000"),   # the city itself
    ("195231000", "195231100"),   # a village inside the rural district
])
def test_residents_of_the_territory_or_a_unit_inside_propose(app, make_cycle, make_user, cycle_unit, home):
    cycle_id = make_cycle(territory=cycle_unit, phase="proposals")
    user_id, _ = make_user(territory=home)
    proposal_id = submit(app, cycle_id, user_id)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "submitted" and proposal.territory.code == home


@pytest.mark.parametrize("cycle_unit, role, home", [
    ("195231000", "resident", "751410000"),  # an Almaty resident in Aytey's cycle
    ("751410000", "resident", "751710000"),  # a neighbouring district
    ("750000000", "resident", "710000000"),  # Astana in Almaty
    ("750000000", "staff", "750000000"),     # staff administer, they do not propose
])
def test_others_cannot_propose(app, make_cycle, make_user, cycle_unit, role, home):
    cycle_id = make_cycle(territory=cycle_unit, phase="proposals")
    user_id, _ = make_user(role=role, territory=home)
    with pytest.raises(NotAllowed):
        submit(app, cycle_id, user_id)
    assert count(app) == 0


def test_proposals_only_in_the_proposals_phase(app, make_cycle, make_user):
    user_id, _ = make_user()
    for phase in ("draft", "review", "voting", "closed", "published"):
        cycle_id = make_cycle(phase=phase)
        with pytest.raises(Conflict):
            submit(app, cycle_id, user_id)
    assert count(app) == 0


BAD_PROPOSALS = [
    ({"cost": 30_000_001}, "cost"),                 # over the cap of make_cycle
    ({"cost": 0}, "cost"),
    ({"cost": "12 млн"}, "cost"),
    ({"category": "casino"}, "category"),
    ({"category": "sports"}, "category"),           # a real category the cycle does not accept
    ({"title": ""}, "title"),
    ({"title": "Ой"}, "title"),
    ({"description": ""}, "description"),
    ({"description": "<script>alert(1)</script>"}, "description"),  # nothing left after sanitising
    ({"latitude": 43.2}, "latitude"),                # without longitude
    ({"latitude": 95.0, "longitude": 76.9}, "latitude"),
]


def test_bad_proposals_are_refused(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals", categories=["lighting", "parks", "sidewalks"])
    user_id, _ = make_user()
    for overrides, field in BAD_PROPOSALS:
        with pytest.raises(ValidationFailed) as caught:
            submit(app, cycle_id, user_id, **overrides)
        assert field in caught.value.fields, overrides
    assert count(app) == 0


def test_empty_proposal_names_every_missing_field(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            proposal_domain.submit_proposal(db.session.get(User, user_id), db.session.get(Cycle, cycle_id), {})
    assert {"title", "description", "category", "cost"} <= set(caught.value.fields)


def test_description_is_sanitised():
    html = proposal_domain.sanitise_description(
        '<p onclick="steal()">Скамейки <strong>и</strong> деревья</p><script>alert("x")</script>'
        '<img src=x onerror=alert(1)><a href="javascript:alert(1)">плохая</a>'
        '<a href="https://akimat.almaty.kz/pb">правила</a><iframe src="https://evil"></iframe>')
    assert "<script" not in html and "alert" not in html and "onclick" not in html
    assert "<img" not in html and "<iframe" not in html and "javascript:" not in html
    assert "<strong>и</strong>" in html
    assert '<a href="https://akimat.almaty.kz/pb" rel="nofollow noopener">правила</a>' in html


def test_plain_text_keeps_paragraphs():
    html = proposal_domain.sanitise_description("Первый абзац.\nВторая строка.\n\nВторой абзац & <b>жирный</b>")
    assert html.replace("\n", "") == "<p>Первый абзац.<br>Вторая строка.</p><p>Второй абзац &amp; жирный</p>"


# --- photos ----------------------------------------------------------------------------------

def stored_photo(app, proposal_id, index=0):
    """The bytes stored for a proposal's photo (app.domain.files)."""
    from app.domain import files

    with app.app_context():
        return files.read(db.session.get(Proposal, proposal_id).photos[index].file)


def test_photos_are_re_encoded_without_metadata_and_stored_in_the_database(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    big = image_bytes("JPEG", size=(3000, 1500), exif=exif.tobytes())
    assert b"SecretCamera" in big
    proposal_id = submit(app, cycle_id, user_id, photos=[big, image_bytes("PNG"), image_bytes("WEBP")])
    with app.app_context():
        photos = db.session.get(Proposal, proposal_id).photos
        assert len(photos) == 3
        first = photos[0]
        assert (first.width, first.height) == (2000, 1000)  # longer side limited
        names = {p.filename for p in photos}
        assert all(p.file.content_type == "image/jpeg" and p.file.size > 0 for p in photos)
        assert len({p.file_id for p in photos}) == 3
    assert len(names) == 3 and all(len(n) == 36 and n.endswith(".jpg") for n in names)
    assert not os.path.exists(app.config["UPLOAD_DIR"])  # nothing on this host's disk
    stored = stored_photo(app, proposal_id)
    assert b"SecretCamera" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and not image.getexif()


def _png(size, mode="1"):
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", optimize=True)
    return out.getvalue()


# The last is over twice Pillow's MAX_IMAGE_PIXELS: Image.open itself refuses it.
@pytest.mark.parametrize("size", [(7000, 7000), (5000, 3500), (12000, 12000)])
def test_pixel_bombs_are_refused_before_decoding(app, make_cycle, make_user, monkeypatch, size):
    """A few KB of PNG declaring tens of millions of pixels: refused from its header, with a
    translated message, without Pillow decoding a single pixel."""
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    bomb = _png(size)
    assert len(bomb) < 400_000

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("a pixel bomb was decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    monkeypatch.setattr("PIL.ImageFile.ImageFile.load", no_decoding)
    with pytest.raises(ValidationFailed) as caught:
        submit(app, cycle_id, user_id, photos=[bomb])
    message, params = caught.value.fields["photos"][0]
    assert message == TOO_MANY_PIXELS
    assert params["n"] >= 1 and count(app) == 0


def _catalogue_plural(msgid, lang, form):
    from tests.helpers import _catalogue

    return _catalogue(lang).get(msgid).string[form]


TOO_MANY_PIXELS = ("The image has too many pixels: at most %(n)s megapixel.",
                   "The image has too many pixels: at most %(n)s megapixels.")


def test_pixel_bomb_refusal_is_shown_translated_on_the_page(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user()
    login(client, iin, lang="ru")
    page = client.get(f"/ru/cycles/{cycle_id}/proposals/new")
    response = client.post(f"/ru/cycles/{cycle_id}/proposals/new", data=page_data(
        page, photos=[(io.BytesIO(_png((7000, 7000))), "bomb.png")]), content_type="multipart/form-data")
    assert response.status_code == 422
    many = _catalogue_plural(TOO_MANY_PIXELS[0], "ru", 2) % {"n": 16}  # ru: 16 takes the third form
    assert many in response.get_data(as_text=True)


def test_photo_gps_exif_and_comment_are_not_stored(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    exif = Image.Exif()
    exif[0x010F] = "SecretCamera"  # Make
    gps = exif.get_ifd(0x8825)  # GPSInfo
    gps.update({1: "N", 2: (43.0, 14.0, 30.5), 3: "E", 4: (76.0, 53.0, 40.1)})
    photo = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 120, 60)).save(
        photo, "JPEG", exif=exif.tobytes(), comment=b"home of the author: Abay 10, flat 5")
    photo = photo.getvalue()
    assert b"Exif" in photo and b"home of the author" in photo and b"\xff\xfe" in photo
    proposal_id = submit(app, cycle_id, user_id, photos=[photo])
    stored = stored_photo(app, proposal_id)
    assert b"Exif" not in stored and b"SecretCamera" not in stored
    assert b"home of the author" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif() and "comment" not in image.info and "exif" not in image.info
        assert not image.applist or all(marker == "APP0" for marker, _ in image.applist)
        assert image.size == (800, 600)
    assert b"\xff\xfe" not in stored[:stored.index(b"\xff\xda")]  # no COM before the image data


FAKE_IMAGES = [
    (b"this is a text file, not a photo" * 10, "not a valid"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "not a valid"),  # a PNG signature and nothing else
    (b"GIF89a" + b"\x00" * 100, "not a valid"),
    (b"", "empty"),
]


def test_fake_images_are_refused(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    for upload, message in FAKE_IMAGES:
        with pytest.raises(ValidationFailed) as caught:
            submit(app, cycle_id, user_id, photos=[upload])
        assert message in caught.value.fields["photos"][0][0], upload[:20]
    assert count(app) == 0


def test_gif_is_not_accepted(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    with pytest.raises(ValidationFailed) as caught:
        submit(app, cycle_id, user_id, photos=[image_bytes("GIF")])
    assert caught.value.fields["photos"][0][0] == "Photos must be JPEG, PNG or WebP images."


def test_oversized_and_too_many_photos_are_refused(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    user_id, _ = make_user()
    oversized = image_bytes("PNG") + b"\x00" * (5 * 1024 * 1024)
    with pytest.raises(ValidationFailed) as caught:
        submit(app, cycle_id, user_id, photos=[oversized])
    assert caught.value.fields["photos"][0] == ("Each photo may be at most %(n)s MB.", {"n": 5})
    with pytest.raises(ValidationFailed) as caught:
        submit(app, cycle_id, user_id, photos=[image_bytes("PNG")] * 6)
    assert "photos" in caught.value.fields
    assert count(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0


# --- pages -----------------------------------------------------------------------------------

def page_data(page, **overrides):
    data = {"csrf_token": csrf_token(page), "title": "Сквер у школы № 54", "category": "parks",
            "description": "Посадить деревья и поставить скамейки.<script>alert(1)</script>",
            "cost": "15 000 000", "address": "мкр. Орбита-1", "latitude": "43.2101", "longitude": "76.8944"}
    data.update(overrides)
    return data


def test_resident_proposes_through_the_page_with_a_photo(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(territory="751410000")
    login(client, iin)
    page = client.get(f"/en/cycles/{cycle_id}/proposals/new")
    assert page.status_code == 200
    data = page_data(page, photos=[(io.BytesIO(image_bytes("PNG")), "yard.png")])
    response = client.post(f"/en/cycles/{cycle_id}/proposals/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        proposal = db.session.scalar(select(Proposal))
        assert proposal.cost == 15_000_000 and proposal.latitude == pytest.approx(43.2101)
        assert "<script" not in proposal.description and proposal.language == "en"
        photo = proposal.photos[0].filename
    detail = client.get(response.headers["Location"])
    assert detail.status_code == 200 and "Submitted" in detail.get_data(as_text=True)
    served = client.get(f"/en/proposals/{proposal.id}/photos/{photo}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.get_data()[:3] == b"\xff\xd8\xff"
    assert served.headers["ETag"] == f'"{hashlib.sha256(served.get_data()).hexdigest()}"'
    # A public proposal's photo: a day in any cache, never revalidated (its URL never shows
    # other bytes); the ETag is the content's SHA-256 and answers 304 without the bytes.
    assert served.headers["Cache-Control"] == "public, max-age=86400, immutable"
    again = client.get(f"/en/proposals/{proposal.id}/photos/{photo}",
                       headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and not again.get_data()
    served.close()
    assert client.get(f"/en/proposals/{proposal.id}/photos/..%2Fconfig.py").status_code == 404
    assert client.get(f"/en/proposals/{proposal.id}/photos/{'0' * 32}.jpg").status_code == 404


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_page_errors_are_translated_and_nothing_is_stored(app, tclient, make_cycle, make_user, lang):
    cycle_id = make_cycle(phase="proposals")
    _, iin = make_user(territory="751410000")
    login(tclient, iin, lang=lang)
    page = tclient.get(f"/{lang}/cycles/{cycle_id}/proposals/new")
    data = page_data(page, cost="31000000", photos=[(io.BytesIO(b"not an image at all"), "photo.jpg")])
    response = tclient.post(f"/{lang}/cycles/{cycle_id}/proposals/new", data=data,
                            content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    fake = "This file is not a valid JPEG, PNG or WebP image."
    cap = "The cost may not exceed %(cap)s tenge in this cycle."
    if lang == "en":
        assert fake in body and cap % {"cap": "30\u00a0000\u00a0000"} in body
    else:
        assert catalogue_translation(fake, lang) in body
        assert catalogue_translation(cap, lang, cap="30\u00a0000\u00a0000") in body
    assert count(app) == 0


def test_out_of_territory_and_out_of_phase_on_the_page(client, make_cycle, make_user):
    aytey = make_cycle(territory="195231000", phase="proposals")
    closed = make_cycle(territory="750000000", phase="review")
    _, iin = make_user(territory="751410000")
    login(client, iin)
    page = client.get(f"/en/cycles/{aytey}/proposals/new")
    assert page.status_code == 403 and "Only residents of this territory" in page.get_data(as_text=True)
    response = client.post(f"/en/cycles/{aytey}/proposals/new", data=page_data(page))
    assert response.status_code == 403
    page = client.get(f"/en/cycles/{closed}/proposals/new")
    assert page.status_code == 409
    assert client.post(f"/en/cycles/{closed}/proposals/new", data=page_data(page)).status_code == 409


def test_author_edits_until_review_starts(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    author_id, iin = make_user()
    other_id, _ = make_user()
    proposal_id = submit(app, cycle_id, author_id)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        with pytest.raises(NotAllowed):
            proposal_domain.update_proposal(db.session.get(User, other_id), proposal, {"cost": 1})
    login(client, iin)
    page = client.get(f"/en/proposals/{proposal_id}/edit")
    assert page.status_code == 200 and "12000000" in page.get_data(as_text=True)
    response = client.post(f"/en/proposals/{proposal_id}/edit",
                           data=page_data(page, title="Освещение улицы Жандосова (изм.)", category="lighting",
                                          cost="9000000"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).cost == 9_000_000
        db.session.get(Cycle, cycle_id).phase = "review"
        db.session.commit()
    page = client.get(f"/en/proposals/{proposal_id}/edit")
    assert page.status_code == 409
    response = client.post(f"/en/proposals/{proposal_id}/edit", data=page_data(page, cost="1000"))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).cost == 9_000_000


def test_photos_can_be_added_and_removed_while_editing(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    author_id, _ = make_user()
    proposal_id = submit(app, cycle_id, author_id, photos=[image_bytes("PNG")] * 5)
    with app.app_context():
        proposal, author = db.session.get(Proposal, proposal_id), db.session.get(User, author_id)
        with pytest.raises(ValidationFailed):
            proposal_domain.update_proposal(author, proposal, {}, photos=[image_bytes("PNG")])
        gone = proposal.photos[0]
        gone_id, gone_file_id = gone.id, gone.file_id
        proposal_domain.update_proposal(author, proposal, {}, photos=[image_bytes("JPEG")],
                                        remove_photo_ids=[gone_id])
        db.session.commit()
        assert len(proposal.photos) == 5
        assert db.session.get(ProposalPhoto, gone_id) is None
        # The removed photo's bytes went with it, in the same commit; the five others stay.
        assert db.session.get(StoredFile, gone_file_id) is None
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 5


def test_withdrawn_proposals_photos_are_for_the_author_only_and_never_cached(app, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    author_id, iin = make_user()
    proposal_id = submit(app, cycle_id, author_id, photos=[image_bytes("PNG")])
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        url = f"/en/proposals/{proposal_id}/photos/{proposal.photos[0].filename}"
        proposal_domain.withdraw_proposal(proposal.author, proposal)
        db.session.commit()
    assert app.test_client().get(url).status_code == 404
    author = app.test_client()
    login(author, iin)
    served = author.get(url)
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"
    assert served.get_data() == stored_photo(app, proposal_id)


def test_withdrawn_proposals_leave_the_public_list(app, client, make_cycle, make_user):
    cycle_id = make_cycle(phase="proposals")
    author_id, iin = make_user()
    proposal_id = submit(app, cycle_id, author_id, title="Снятая заявка про фонари")
    login(client, iin)
    page = client.get(f"/en/proposals/{proposal_id}")
    client.post(f"/en/proposals/{proposal_id}/withdraw", data={"csrf_token": csrf_token(page)})
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "withdrawn"
    assert client.get(f"/en/proposals/{proposal_id}").status_code == 200  # the author still sees it
    anonymous = app.test_client()
    assert anonymous.get(f"/en/proposals/{proposal_id}").status_code == 404
    assert "Снятая заявка" not in anonymous.get(f"/en/cycles/{cycle_id}").get_data(as_text=True)


def test_public_list_filters_search_and_pages(app, client, make_cycle, make_proposal, make_user):
    cycle_id = make_cycle(phase="voting")
    author_id, _ = make_user()
    for n in range(23):
        make_proposal(cycle_id, author_id=author_id, title=f"Детская площадка № {n}", category="playgrounds")
    make_proposal(cycle_id, author_id=author_id, title="Тротуар на Розыбакиева", category="sidewalks")
    make_proposal(cycle_id, author_id=author_id, title="Фонари в сквере", category="lighting", status="rejected",
                  review_reason_ru="Превышает лимит стоимости")
    first = client.get(f"/en/cycles/{cycle_id}").get_data(as_text=True)
    assert "25 proposals" in first and "Детская площадка № 19" in first and "Детская площадка № 20" not in first
    second = client.get(f"/en/cycles/{cycle_id}?page=2").get_data(as_text=True)
    assert "Детская площадка № 20" in second and "Тротуар на Розыбакиева" in second
    by_category = client.get(f"/en/cycles/{cycle_id}?category=sidewalks").get_data(as_text=True)
    assert "1 proposal<" in by_category and "Тротуар на Розыбакиева" in by_category
    rejected = client.get(f"/en/cycles/{cycle_id}?status=rejected").get_data(as_text=True)
    assert "Фонари в сквере" in rejected and "Превышает лимит стоимости" in rejected
    assert "Детская площадка" not in rejected
    search = client.get(f"/en/cycles/{cycle_id}?q=Розыбакиева").get_data(as_text=True)
    assert "1 proposal<" in search and "Тротуар на Розыбакиева" in search
    assert client.get(f"/en/cycles/{cycle_id}?page=abc&status=<x>").status_code == 200


def test_my_proposals_show_status_and_reason(app, client, make_cycle, make_proposal, make_user):
    cycle_id = make_cycle(phase="review")
    author_id, iin = make_user()
    make_proposal(cycle_id, author_id=author_id, title="Освещение парка", status="rejected",
                  review_reason_ru="Участок не в коммунальной собственности")
    login(client, iin, lang="en")
    body = client.get("/en/my/proposals").get_data(as_text=True)
    assert "Освещение парка" in body and "Rejected" in body and "Участок не в коммунальной собственности" in body
