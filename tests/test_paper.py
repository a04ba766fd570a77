"""Paper ballots: polling points, two blind entries, the third person, one ballot per person
across channels (also under races), scans, counting and open data with the channel."""
import csv
import io
import os
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.domain import counting, files, open_data, paper, voting
from app.domain.errors import Conflict, DomainError, NotAllowed, NotFound
from app.domain.iin import make_iin
from app.extensions import db
from app.models import AuditEntry, Ballot, Cycle, PaperEntry, Proposal, Residence, User
from tests.helpers import ROOT, csrf_token, image_bytes, login, race, residents


def _pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = _pdf()


@pytest.fixture
def setup(app, make_cycle, make_proposal, make_user):
    """An Aytey rural district approval cycle (up to 2) in voting with three admitted proposals,
    three staff of the rural district, and a registered resident of Aytey village."""
    cycle_id = make_cycle(territory="195231000", phase="voting", ballot_style="approval", max_choices=2)
    author = residents(app, "195231100", 1)[0]
    proposals = [make_proposal(cycle_id, author_id=author) for _ in range(3)]
    staff = [make_user(role="staff", territory="195231000", name=f"Staff {i}")[0] for i in range(3)]
    voter, iin = make_user(territory="195231100")
    return {"cycle": cycle_id, "proposals": proposals, "staff": staff, "voter": voter, "iin": iin}


def said(msgid, lang, plural=False):
    """What a page in `lang` shows for msgid: the catalogue's translation once the main session
    has merged this branch's translations (translations/pending/paper.json), until then the msgid."""
    if lang == "en":
        return msgid if not plural else msgid.replace("project.", "projects.")
    from babel.messages.pofile import read_po

    with open(ROOT / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        message = read_po(f, locale=lang).get(msgid)
    if message is None or not message.string:
        return msgid if not plural else msgid.replace("project.", "projects.")
    if isinstance(message.string, tuple):
        return message.string[1]  # n = 2: "few" in ru, "other" in kk
    return message.string


def enter(app, staff_id, cycle_id, iin, choices, **kwargs):
    with app.app_context():
        outcome = paper.enter_ballot(db.session.get(User, staff_id), db.session.get(Cycle, cycle_id), iin,
                                     choices, app.config["IIN_HMAC_KEY"], **kwargs)
        db.session.commit()
        return outcome.status, outcome.entry.id, outcome.ballot.receipt if outcome.ballot else None


def ballots(app, cycle_id):
    with app.app_context():
        return [(b.voter_id, b.channel, [i.proposal_id for i in b.items])
                for b in db.session.scalars(select(Ballot).where(Ballot.cycle_id == cycle_id))]


def test_two_matching_entries_store_one_paper_ballot(app, setup):
    s = setup
    p1, p2, _ = s["proposals"]
    status, entry, receipt = enter(app, s["staff"][0], s["cycle"], s["iin"], [p2, p1])
    assert (status, receipt) == ("awaiting_second_entry", None)
    assert ballots(app, s["cycle"]) == []  # one entry alone stores nothing
    status, same_entry, receipt = enter(app, s["staff"][1], s["cycle"], s["iin"], [p1, p2])
    assert status == "stored" and same_entry == entry and receipt
    assert ballots(app, s["cycle"]) == [(s["voter"], "paper", [p1, p2])]
    with app.app_context():
        assert voting.check_receipt(receipt).channel == "paper"
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions[-2:] == ["paper.first_entry", "paper.second_entry"]
        # The audit log never holds the IIN, in any form it was typed.
        dumped = " ".join(str(e.before) + str(e.after) for e in db.session.scalars(select(AuditEntry)))
        assert s["iin"] not in dumped
        # Nor the choices: admins read it, and an entry belongs to a known resident (secrecy).
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("paper.%"))):
            for snapshot in (e.before or {}, e.after or {}):
                assert not {"first_choices", "second_choices", "choices"} & set(snapshot), snapshot


def test_the_same_staff_member_cannot_make_both_entries(app, setup):
    s = setup
    enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][0]])
    with pytest.raises(Conflict) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][0]])
    assert caught.value.code == "second_entry_by_another"
    assert ballots(app, s["cycle"]) == []


def test_mismatch_goes_to_a_third_person_who_settles_it(app, setup):
    s = setup
    p1, p2, p3 = s["proposals"]
    enter(app, s["staff"][0], s["cycle"], s["iin"], [p1])
    status, entry_id, receipt = enter(app, s["staff"][1], s["cycle"], s["iin"], [p2])
    assert (status, receipt) == ("mismatch", None)
    assert ballots(app, s["cycle"]) == []
    with pytest.raises(Conflict) as caught:  # a third entry does not bypass the queue
        enter(app, s["staff"][2], s["cycle"], s["iin"], [p1])
    assert caught.value.code == "entry_in_resolution"
    with app.app_context():
        cycle = db.session.get(Cycle, s["cycle"])
        assert [e.id for e in paper.entries(cycle, "mismatch")] == [entry_id]
        entry = db.session.get(PaperEntry, entry_id)
        for who in s["staff"][:2]:
            with pytest.raises(NotAllowed) as refused:
                paper.resolve_entry(db.session.get(User, who), entry, [p1])
            assert refused.value.code == "third_person_required"
        ballot = paper.resolve_entry(db.session.get(User, s["staff"][2]), entry, [p1, p3])
        db.session.commit()
        assert ballot.channel == "paper"
        assert db.session.get(PaperEntry, entry_id).status == "stored"
        assert db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()[-1] == "paper.resolve"
    assert ballots(app, s["cycle"]) == [(s["voter"], "paper", [p1, p3])]


def test_a_third_person_may_void_an_unreadable_ballot(app, setup):
    s = setup
    p1, p2, _ = s["proposals"]
    enter(app, s["staff"][0], s["cycle"], s["iin"], [p1])
    _, entry_id, _ = enter(app, s["staff"][1], s["cycle"], s["iin"], [p2])
    with app.app_context():
        entry = db.session.get(PaperEntry, entry_id)
        with pytest.raises(NotAllowed):
            paper.void_entry(db.session.get(User, s["staff"][0]), entry)
        paper.void_entry(db.session.get(User, s["staff"][2]), entry)
        db.session.commit()
        assert db.session.get(PaperEntry, entry_id) is None
        assert db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()[-1] == "paper.void"
    assert enter(app, s["staff"][0], s["cycle"], s["iin"], [p1])[0] == "awaiting_second_entry"


def test_style_limits_apply_to_paper_ballots(app, setup):
    s = setup
    with pytest.raises(DomainError) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], s["proposals"])  # three, at most two
    assert caught.value.code == "too_many_choices"
    with pytest.raises(DomainError) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], [])
    assert caught.value.code == "no_choice"


@pytest.mark.parametrize("who, territory, code", [
    ("resident", "751410000", "not_resident_of_territory"),   # lives in Almaty
    ("staff", "195231000", "not_resident_of_territory"),      # staff do not vote
])
def test_only_residents_of_the_territory(app, setup, make_user, who, territory, code):
    s = setup
    _, iin = make_user(role=who, territory=territory)
    with pytest.raises(DomainError) as caught:
        enter(app, s["staff"][0], s["cycle"], iin, [s["proposals"][0]])
    assert caught.value.code == code


def test_staff_of_another_territory_and_closed_voting_are_refused(app, setup, make_user):
    s = setup
    almaty_staff, _ = make_user(role="staff", territory="750000000")
    with pytest.raises(NotAllowed):
        enter(app, almaty_staff, s["cycle"], s["iin"], [s["proposals"][0]])
    with app.app_context():
        db.session.get(Cycle, s["cycle"]).phase = "closed"
        db.session.commit()
    with pytest.raises(Conflict) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][0]])
    assert caught.value.code == "voting_not_open"


def test_unregistered_resident_is_added_with_residence_verified(app, setup, new_iin):
    s = setup
    iin = new_iin()
    with pytest.raises(NotFound) as caught:
        enter(app, s["staff"][0], s["cycle"], iin, [s["proposals"][0]])
    assert caught.value.code == "resident_not_registered"
    with pytest.raises(DomainError) as caught:  # a home outside the cycle's territory
        enter(app, s["staff"][0], s["cycle"], iin, [s["proposals"][0]],
              newcomer=paper.Newcomer("Бибігүл Сейітова", "751410000", "id_card"))
    assert "territory" in caught.value.fields
    newcomer = paper.Newcomer("Бибігүл  Сейітова", "195231100", "id_card")
    enter(app, s["staff"][0], s["cycle"], iin, [s["proposals"][0]], newcomer=newcomer)
    status, _, receipt = enter(app, s["staff"][1], s["cycle"], iin, [s["proposals"][0]], newcomer=newcomer)
    assert status == "stored" and receipt
    with app.app_context():
        from app.domain.accounts import find_user_by_iin

        user = find_user_by_iin(iin, app.config["IIN_HMAC_KEY"])
        assert user.full_name == "Бибігүл Сейітова" and user.residence == Residence.VERIFIED.value
        assert user.residence_document == "id_card" and user.password_hash == ""
        assert db.session.scalar(select(func.count(User.id)).where(User.iin_hmac == user.iin_hmac)) == 1


def test_online_then_paper_and_paper_then_online_are_refused(app, setup, make_user):
    s = setup
    p1 = s["proposals"][0]
    with app.app_context():
        voting.cast_ballot(db.session.get(User, s["voter"]), db.session.get(Cycle, s["cycle"]), [p1])
        db.session.commit()
    with pytest.raises(Conflict) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], [p1])
    assert caught.value.code == "already_voted"

    other, iin = make_user(territory="195231100")
    enter(app, s["staff"][0], s["cycle"], iin, [p1])
    enter(app, s["staff"][1], s["cycle"], iin, [p1])
    with app.app_context(), pytest.raises(Conflict) as caught:
        voting.cast_ballot(db.session.get(User, other), db.session.get(Cycle, s["cycle"]), [p1])
    assert caught.value.code == "already_voted"
    assert sorted(ballots(app, s["cycle"])) == sorted([(s["voter"], "online", [p1]), (other, "paper", [p1])])


def test_parallel_paper_store_and_online_casts_leave_one_ballot(app, setup, make_user):
    """The database decides: a second paper entry and online casts of the same person at once."""
    s = setup
    p1, p2, _ = s["proposals"]
    key = app.config["IIN_HMAC_KEY"]
    for round_ in range(3):
        voter, iin = make_user(territory="195231100")
        enter(app, s["staff"][0], s["cycle"], iin, [p1])

        def second():
            return paper.enter_ballot(db.session.get(User, s["staff"][1]), db.session.get(Cycle, s["cycle"]),
                                      iin, [p1], key).status

        def online():
            return voting.cast_ballot(db.session.get(User, voter), db.session.get(Cycle, s["cycle"]), [p2]).channel

        outcomes = race(app, [second, online, online])
        mine = [b for b in ballots(app, s["cycle"]) if b[0] == voter]
        assert len(mine) == 1, (round_, outcomes, mine)
        if mine[0][1] == "paper":
            assert ("ok", "stored") in outcomes and outcomes.count(("refused", "already_voted")) == 2
        else:
            assert ("refused", "already_voted") in outcomes and ("ok", "stored") not in outcomes


def test_parallel_first_entries_of_one_person_become_one_entry(app, setup):
    s = setup
    p1 = s["proposals"][0]
    key = app.config["IIN_HMAC_KEY"]

    def entry_by(staff_id):
        return lambda: paper.enter_ballot(db.session.get(User, staff_id), db.session.get(Cycle, s["cycle"]),
                                          s["iin"], [p1], key).status

    outcomes = race(app, [entry_by(s["staff"][0]), entry_by(s["staff"][1])])
    assert sorted(outcomes) == [("ok", "awaiting_second_entry"), ("ok", "stored")], outcomes
    with app.app_context():
        assert db.session.scalar(select(func.count(PaperEntry.id))) == 1
    assert ballots(app, s["cycle"]) == [(s["voter"], "paper", [p1])]


def test_scan_is_validated_and_kept_outside_public_reach(app, setup):
    s = setup
    p1 = s["proposals"][0]
    with pytest.raises(DomainError) as caught:
        enter(app, s["staff"][0], s["cycle"], s["iin"], [p1], scan=b"MZ\x90\x00 not a scan")
    assert "scan" in caught.value.fields
    _, entry_id, _ = enter(app, s["staff"][0], s["cycle"], s["iin"], [p1], scan=PDF)
    with app.app_context():
        entry = db.session.get(PaperEntry, entry_id)
        first_scan = paper.scan_of(entry)
        assert files.read(first_scan) == PDF and first_scan.content_type == "application/pdf"
        first_id = first_scan.id
    enter(app, s["staff"][1], s["cycle"], s["iin"], [p1], scan=image_bytes("PNG"))
    with app.app_context():
        entry = db.session.get(PaperEntry, entry_id)
        new_scan = paper.scan_of(entry)
        assert new_scan.content_type == "image/jpeg" and files.read(new_scan)[:2] == b"\xff\xd8"
        assert files.get(first_id) is None  # the replaced scan is gone with its relationship
        assert not os.path.exists(app.config["UPLOAD_DIR"])  # nothing on this host's disk


def test_ten_voter_minimum_counts_both_channels(app, setup):
    s = setup
    p1 = s["proposals"][0]
    online = residents(app, "195231100", 6)
    with app.app_context():
        for voter in online:
            voting.cast_ballot(db.session.get(User, voter), db.session.get(Cycle, s["cycle"]), [p1])
        db.session.commit()
    for n in range(4):
        iin = make_iin(date(1970, 3, 1 + n), serial=f"{7000 + n * 3:04d}")
        newcomer = paper.Newcomer(f"Paper voter {n}", "195231100", "passport")
        enter(app, s["staff"][0], s["cycle"], iin, [p1], newcomer=newcomer)
        enter(app, s["staff"][1], s["cycle"], iin, [p1])
    with app.app_context():
        cycle = db.session.get(Cycle, s["cycle"])
        figures = counting.compute_count(cycle).by_id[p1]
        assert (figures.votes, figures.voters_in_territory, figures.eligible) == (10, 10, True)
        assert paper.channel_totals(cycle) == {"online": 6, "paper": 4}
        assert paper.votes_by_channel(cycle)[p1] == {"online": 6, "paper": 4}
        counting.count_cycle(cycle)
        cycle.phase = "published"
        db.session.commit()
        pb = open_data.ballots_pb(cycle, "key")
        assert "num_votes_online;6" in pb and "num_votes_paper;4" in pb
        votes = pb.split("VOTES\n")[1].splitlines()
        assert votes[0] == "voter_id;vote;channel;in_territory"
        assert sorted(line.split(";")[2] for line in votes[1:]) == ["online"] * 6 + ["paper"] * 4
        rows = list(csv.DictReader(io.StringIO(open_data.results_csv(cycle).lstrip("\ufeff"))))
        row = next(r for r in rows if int(r["proposal_id"]) == p1)
        assert (row["votes"], row["votes_online"], row["votes_paper"]) == ("10", "6", "4")
        assert open_data.results_document(cycle, "en")["voters_by_channel"] == {"online": 6, "paper": 4}
    from app.tally import parse

    election = parse(pb, strict=True)
    assert len(election.ballots) == 10  # the recount reads the channel column and counts every ballot


# --- polling points -----------------------------------------------------------------------

def test_polling_point_needs_places_in_kk_and_ru_and_sane_hours(app, setup):
    s = setup
    with app.app_context():
        staff, cycle = db.session.get(User, s["staff"][0]), db.session.get(Cycle, s["cycle"])
        with pytest.raises(DomainError) as caught:
            paper.save_point(staff, cycle, {"place_kk": "", "place_ru": "Акимат", "opens_at": "18:00",
                                            "closes_at": "09:00", "staff_ids": ["999999"]})
        assert {"place_kk", "closes_at", "staff_ids"} <= set(caught.value.fields)
        point = paper.save_point(staff, cycle, {
            "place_kk": "Әйтей ауылдық округі әкімдігі", "place_ru": "Акимат Айтейского сельского округа",
            "place_en": "", "opens_at": "09:00", "closes_at": "18:00", "staff_ids": [str(i) for i in s["staff"]]})
        db.session.commit()
        assert point.place("en") == "Акимат Айтейского сельского округа" and len(point.staff) == 3


def _point(app, s):
    with app.app_context():
        point = paper.save_point(db.session.get(User, s["staff"][0]), db.session.get(Cycle, s["cycle"]), {
            "place_kk": "Әйтей ауылы, мектеп", "place_ru": "Село Айтей, школа", "place_en": "Aytey village, school",
            "opens_at": "09:00", "closes_at": "18:00", "staff_ids": [str(s["staff"][0]), str(s["staff"][1])]})
        db.session.commit()
        return point.id


def test_public_cycle_page_and_api_list_the_points(app, client, setup):
    s = setup
    _point(app, s)
    for lang, place in (("kk", "Әйтей ауылы, мектеп"), ("ru", "Село Айтей, школа"), ("en", "Aytey village, school")):
        page = client.get(f"/{lang}/cycles/{s['cycle']}")
        assert page.status_code == 200 and place in page.get_data(as_text=True)
        assert "09:00" in page.get_data(as_text=True)
    answer = client.get(f"/api/v1/cycles/{s['cycle']}/polling-points", headers={"Accept-Language": "ru"})
    (point,) = answer.get_json()["points"]
    assert point["place"] == "Село Айтей, школа" and point["opens_at"] == "09:00"
    assert point["place_i18n"]["kk"] == "Әйтей ауылы, мектеп"


# --- API ----------------------------------------------------------------------------------

def test_api_two_entries_mismatch_and_receipt_channel(app, client, setup, api_token, make_user):
    s = setup
    p1, p2, _ = s["proposals"]
    staff = [make_user(role="staff", territory="195231000") for _ in range(3)]
    heads = [api_token(iin) for _, iin in staff]
    url = f"/api/v1/cycles/{s['cycle']}/paper-ballots"
    first = client.post(url, json={"iin": s["iin"], "proposals": [p1]}, headers=heads[0])
    assert first.status_code == 202 and first.get_json()["status"] == "awaiting_second_entry"
    assert s["iin"] not in first.get_data(as_text=True)
    second = client.post(url, json={"iin": s["iin"], "proposals": [p1]}, headers=heads[1])
    assert second.status_code == 201 and second.get_json()["status"] == "stored"
    receipt = second.get_json()["receipt"]
    assert client.get(f"/api/v1/receipts/{receipt}").get_json()["channel"] == "paper"
    with app.app_context():  # the secret for the resident's slip is the one the seal's leaf uses
        stored = db.session.scalar(select(Ballot).where(Ballot.receipt == receipt))
        assert second.get_json()["secret"] == stored.secret and len(stored.secret) >= 20
    again = client.post(url, json={"iin": s["iin"], "proposals": [p1]}, headers=heads[2])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_voted"

    _, iin = make_user(territory="195231100")
    client.post(url, json={"iin": iin, "proposals": [p1]}, headers=heads[0])
    mismatch = client.post(url, json={"iin": iin, "proposals": [p2]}, headers=heads[1])
    assert mismatch.status_code == 409 and mismatch.get_json()["error"]["code"] == "entry_mismatch"
    with app.app_context():
        entry_id = db.session.scalar(select(PaperEntry.id).where(PaperEntry.status == "mismatch"))
    resolve = f"{url}/{entry_id}/resolution"
    refused = client.post(resolve, json={"proposals": [p2]}, headers=heads[1])
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "third_person_required"
    settled = client.post(resolve, json={"proposals": [p2]}, headers=heads[2])
    assert settled.status_code == 201 and settled.get_json()["receipt"]
    resident = client.post(url, json={"iin": s["iin"], "proposals": [p1]},
                           headers=api_token(s["iin"]))
    assert resident.status_code == 403


@pytest.mark.parametrize("body, status", [
    ({"iin": "123", "proposals": [1]}, 422), ({"proposals": [1]}, 422), ({"iin": 5, "proposals": [1]}, 422),
    ({"iin": "x", "proposals": "1"}, 422), ({"iin": "x", "proposals": [1], "resident": "x"}, 422),
])
def test_api_bad_bodies_are_clear_errors(app, client, setup, api_token, make_user, body, status):
    _, iin = make_user(role="staff", territory="195231000")
    answer = client.post(f"/api/v1/cycles/{setup['cycle']}/paper-ballots", json=body, headers=api_token(iin))
    assert answer.status_code == status and "error" in answer.get_json()


# --- pages --------------------------------------------------------------------------------

def test_staff_pages_two_entries_by_clicks(app, client, setup, make_user):
    s = setup
    p1, _, _ = s["proposals"]
    point = _point(app, s)
    first, first_iin = make_user(role="staff", territory="195231000")
    second, second_iin = make_user(role="staff", territory="195231000")
    login(client, first_iin, lang="ru")
    console = client.get(f"/ru/staff/cycles/{s['cycle']}")
    assert f"/ru/staff/cycles/{s['cycle']}/paper".encode() in console.data
    hub = client.get(f"/ru/staff/cycles/{s['cycle']}/paper")
    assert hub.status_code == 200
    for link in ("paper/enter", "paper/ballot", f"paper/points/{point}/tally", "paper/points/new"):
        assert link.encode() in hub.data, link
    form = client.get(f"/ru/staff/cycles/{s['cycle']}/paper/enter")
    answer = client.post(f"/ru/staff/cycles/{s['cycle']}/paper/enter", data={
        "csrf_token": csrf_token(form), "iin": s["iin"], "proposals": [str(p1)], "point": str(point)})
    assert answer.status_code == 302
    client.post("/ru/logout", data={"csrf_token": csrf_token(client.get("/ru/"))})
    login(client, second_iin, lang="ru")
    form = client.get(f"/ru/staff/cycles/{s['cycle']}/paper/enter")
    assert str(p1).encode() in form.data and b"checked" not in form.data  # blind: nothing pre-filled
    answer = client.post(f"/ru/staff/cycles/{s['cycle']}/paper/enter", data={
        "csrf_token": csrf_token(form), "iin": s["iin"], "proposals": [str(p1)], "point": str(point)})
    assert answer.status_code == 302
    assert ballots(app, s["cycle"]) == [(s["voter"], "paper", [p1])]
    for page in ("paper/ballot", f"paper/points/{point}/tally"):
        shown = client.get(f"/ru/staff/cycles/{s['cycle']}/{page}")
        assert shown.status_code == 200, page
    blank = client.get(f"/ru/staff/cycles/{s['cycle']}/paper/ballot").get_data(as_text=True)
    # Every language at once, whatever the page's language: kk, ru and en blocks, each in its words.
    blocks = re.findall(r'<div class="ballot-lang" lang="(\w\w)">(.*?)</div>', blank, re.S)
    assert [lang for lang, _ in blocks] == ["kk", "ru", "en"]
    for (lang, block), title in zip(blocks, ("Алматы ХҚБ 2026", "БНУ Алматы 2026", "Almaty PB 2026")):
        assert title in block and said("Ballot", lang) in block
        assert said("Put a mark in the boxes of at most %(num)s project.", lang, plural=True) % {"num": 2} in block
    assert blank.count('class="box"') == 3 and blank.count('class="number">') == 3


def test_scan_is_served_only_to_staff_of_the_territory(app, client, setup, make_user):
    s = setup
    _, entry_id, _ = enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][0]], scan=PDF)
    url = f"/ru/staff/cycles/{s['cycle']}/paper/entries/{entry_id}/scan"
    assert client.get(url).status_code in (302, 401)
    _, outsider = make_user(role="staff", territory="750000000")
    login(client, outsider)
    assert client.get(url).status_code == 403
    client.post("/en/logout", data={"csrf_token": csrf_token(client.get("/en/"))})
    _, insider = make_user(role="staff", territory="195231000")
    login(client, insider)
    shown = client.get(url)
    try:
        assert shown.status_code == 200 and shown.data == PDF
        assert shown.headers["Cache-Control"] == "private, no-store"
    finally:
        shown.close()


def test_demo_aytey_cycle_has_a_polling_point_paper_ballots_and_a_queued_mismatch(app, runner):
    done = runner.invoke(args=["demo", "seed"])
    assert done.exit_code == 0, done.output
    assert "5 paper ballots entered at its polling point" in done.output
    with app.app_context():
        cycle = db.session.scalar(select(Cycle).where(Cycle.title_en.like("Aytey%")))
        (point,) = paper.points(cycle)
        assert point.place("kk").startswith("Әйтей") and len(point.staff) == 2
        assert paper.channel_totals(cycle)["paper"] == 5 and paper.channel_totals(cycle)["online"] > 10
        (queued,) = paper.entries(cycle, "mismatch")
        ertan = db.session.scalar(select(User).where(User.full_name == "Ержан Тоқтаров"))
        paper.require_can_resolve(ertan, queued)  # the demo's main staff member can settle it


def test_second_entry_cannot_see_the_first_anywhere(app, client, setup, make_user):
    """Blind: neither the entry form, the paper ballots page nor the resolution page shows an
    entry's choices to anyone but the third person, and never before the entries differ."""
    s = setup
    _, second_iin = make_user(role="staff", territory="195231000")
    with app.app_context():
        titles = {pid: db.session.get(Proposal, pid).title for pid in s["proposals"]}
    _, entry_id, _ = enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][1]])
    login(client, second_iin, lang="en")
    base = f"/en/staff/cycles/{s['cycle']}/paper"
    for url in (base, f"{base}/enter", f"{base}/entries/{entry_id}/resolve"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert b"checked" not in page.data
        if not url.endswith("/enter"):
            assert titles[s["proposals"][1]].encode() not in page.data, url
    refused = client.get(f"{base}/entries/{entry_id}/resolve").get_data(as_text=True)
    assert "This entry is not waiting for a resolution." in refused


def test_a_resident_who_voted_on_paper_sees_a_final_ballot_online(app, client, setup, auth):
    s = setup
    enter(app, s["staff"][0], s["cycle"], s["iin"], [s["proposals"][0]])
    enter(app, s["staff"][1], s["cycle"], s["iin"], [s["proposals"][0]])
    auth.login(s["iin"])
    page = client.get(f"/en/cycles/{s['cycle']}/ballot")
    assert page.status_code == 200
    assert b"Your ballot was cast on paper at a polling point and is final." in page.data
    assert b'name="proposals"' not in page.data  # no form to vote again


def test_voting_cannot_close_while_paper_entries_wait(app, client, setup, api_token, make_user):
    # An entry not stored by the close would be lost: closing waits until each is stored,
    # settled or voided (the same guard for the API and the staff page).
    s = setup
    p1, p2, _ = s["proposals"]
    enter(app, s["staff"][0], s["cycle"], s["iin"], [p1])  # awaiting its second entry
    _, other_iin = make_user(territory="195231100")
    enter(app, s["staff"][0], s["cycle"], other_iin, [p1])
    _, mismatch_id, _ = enter(app, s["staff"][1], s["cycle"], other_iin, [p2])  # in the queue
    _, staff_iin = make_user(role="staff", territory="195231000")
    close = {"phase": "closed", "confirm_off_schedule": True}
    refused = client.post(f"/api/v1/cycles/{s['cycle']}/phase", json=close,
                          headers={**api_token(staff_iin), "Accept-Language": "ru"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "paper_entries_pending"
    assert refused.get_json()["error"]["message"] == said(
        "Voting cannot close while %(n)s paper ballot waits for its second entry or for a third staff "
        "member: store, settle or void it first.", "ru", plural=True).replace("%(n)s", "2")
    with app.app_context():
        assert db.session.get(Cycle, s["cycle"]).phase == "voting"
    enter(app, s["staff"][1], s["cycle"], s["iin"], [p1])  # stored
    with app.app_context():
        paper.resolve_entry(db.session.get(User, s["staff"][2]), db.session.get(PaperEntry, mismatch_id), [p2])
        db.session.commit()
    closed = client.post(f"/api/v1/cycles/{s['cycle']}/phase", json=close, headers=api_token(staff_iin))
    assert closed.status_code == 200 and closed.get_json()["phase"] == "closed"
    assert sorted(channel for _, channel, _ in ballots(app, s["cycle"])) == ["paper", "paper"]
