"""Sealed ballots: the RFC 6962 tree, the seal made at close, the voter's proof, the offline
check (`python -m app.tally verify-receipt`) and the operator's (`flask cycles verify`)."""
import hashlib
import json
import subprocess
import sys

import pytest
from sqlalchemy import text

from app.domain import lifecycle
from app.domain.open_data import digest_of_payload, digest_payload_from_json
from app.extensions import db
from app.models import Ballot, BallotSeal, Cycle, User
from app.tally import seal as merkle
from tests.helpers import ROOT, AuthActions, login, publish, residents, write_ballot

# --- The tree ----------------------------------------------------------------------------------

# The reference inputs and roots of certificate-transparency's merkle tree tests (RFC 6962 trees
# of the first 1..8 of these leaves).
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
             "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_tree_matches_the_rfc6962_reference_roots():
    hashes = [merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in CT_LEAVES]
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert merkle.root(hashes[:size]) == expected, size
    assert merkle.root([]) == hashlib.sha256(b"").hexdigest()


def _textbook_path(m, hashes):
    """RFC 6962 section 2.1.1 PATH(m, D[n]), written as the RFC states it (over leaf hashes)."""
    if len(hashes) <= 1:
        return []
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    if m < k:
        return _textbook_path(m, hashes[:k]) + [merkle.root(hashes[k:])]
    return _textbook_path(m - k, hashes[k:]) + [merkle.root(hashes[:k])]


def test_every_audit_path_leads_to_the_root_and_a_wrong_one_does_not():
    for size in range(1, 34):
        hashes = [merkle.leaf_hash(f"leaf {i}") for i in range(size)]
        top = merkle.root(hashes)
        for index in range(size):
            path = merkle.audit_path(index, hashes)
            assert path == _textbook_path(index, hashes)
            assert merkle.root_from_path(hashes[index], index, size, path) == top
            if size > 1:
                assert merkle.root_from_path(hashes[index], (index + 1) % size, size, path) != top
                flipped = path[:-1] + [merkle.leaf_hash("other")]
                assert merkle.root_from_path(hashes[index], index, size, flipped) != top
                assert merkle.root_from_path(hashes[index], index, size * 4, path) is None  # too short


def test_leaf_is_canonical_and_hides_the_choice_behind_the_secret():
    secret = merkle.new_secret()
    assert merkle.normalise_secret(secret.lower().replace("-", " ")) == secret
    leaf = merkle.leaf_text(7, [15, 3, 15], secret.lower())
    assert leaf == f"qatysu-ballot-v1\ncycle:7\nproposals:3,15\nsecret:{secret}"
    assert merkle.parse_leaf(leaf) == (7, [3, 15])
    assert merkle.leaf_hash(leaf) == hashlib.sha256(b"\x00" + leaf.encode()).hexdigest()
    # Two voters with the same choice have unrelated leaf hashes.
    assert merkle.leaf_hash(merkle.leaf_text(7, [3], merkle.new_secret())) != \
        merkle.leaf_hash(merkle.leaf_text(7, [3], merkle.new_secret()))
    with pytest.raises(merkle.SealError):
        merkle.leaf_text(7, [3], "not a secret")


# --- The seal of a cycle ---------------------------------------------------------------------------

@pytest.fixture
def sealed_cycle(app, make_cycle, make_proposal, make_user, api_token):
    """A cycle closed through lifecycle.advance: 2 residents voted through the API, 10 as rows."""
    staff_id, _ = make_user(role="staff", territory="750000000")
    author_id, _ = make_user(territory="751410000")
    cycle_id = make_cycle(phase="voting", budget=20_000_000)
    a, b = (make_proposal(cycle_id, author_id=author_id, cost=cost) for cost in (8_000_000, 5_000_000))
    voters = []
    for choice in ([a, b], [b]):
        voter_id, iin = make_user(territory="751410000")
        headers = api_token(iin)
        answer = app.test_client().put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": choice},
                                       headers=headers)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert merkle.normalise_secret(body["secret"]) == body["secret"]
        voters.append({"id": voter_id, "iin": iin, "headers": headers, "choice": choice, **body})
    with app.app_context():
        for voter in residents(app, "751410000", 10):
            write_ballot(voter, cycle_id, [a])
        db.session.commit()
        lifecycle.advance(db.session.get(Cycle, cycle_id), db.session.get(User, staff_id), "closed")
        db.session.commit()
    return {"cycle": cycle_id, "proposals": (a, b), "voters": voters, "staff": staff_id}


def conclude_and_publish(app, sealed):
    from app.domain.conclusions import record_conclusion
    from app.models import Proposal

    a, b = sealed["proposals"]
    with app.app_context():
        staff = db.session.get(User, sealed["staff"])
        record_conclusion(staff, db.session.get(Proposal, a), "approved", {"ru": "Одобрено."})
        record_conclusion(staff, db.session.get(Proposal, b), "not_approved", {"ru": "Мало голосов."})
        db.session.commit()
    publish(app, {"cycle": sealed["cycle"]}, sealed["staff"])


def test_closing_seals_every_ballot(app, sealed_cycle):
    with app.app_context():
        stored = db.session.get(BallotSeal, sealed_cycle["cycle"])
        secrets_ = [b.secret for b in db.session.scalars(
            db.select(Ballot).where(Ballot.cycle_id == sealed_cycle["cycle"]))]
    assert stored.leaves == 12 and len(stored.leaf_hashes) == 12
    assert stored.leaf_hashes == sorted(stored.leaf_hashes)
    assert stored.root == merkle.root(stored.leaf_hashes)
    assert len(set(secrets_)) == 12  # every ballot has its own secret code


def test_voter_gets_a_proof_the_public_gets_the_seal_once_published(app, client, sealed_cycle,
                                                                    tmp_path):
    cycle_id, voter = sealed_cycle["cycle"], sealed_cycle["voters"][0]
    proof = client.get(f"/api/v1/cycles/{cycle_id}/ballot/proof", headers=voter["headers"]).get_json()
    assert proof["leaf"] == merkle.leaf_text(cycle_id, voter["choice"], voter["secret"])
    assert proof["leaf_hash"] == merkle.leaf_hash(proof["leaf"]) and proof["leaves"] == 12
    assert merkle.root_from_path(proof["leaf_hash"], proof["index"], 12, proof["audit_path"]) == proof["root"]
    assert client.get(f"/api/v1/cycles/{cycle_id}/ballot/proof").status_code == 401
    # The seal is public only once the results are published.
    assert client.get(f"/api/v1/cycles/{cycle_id}/seal").status_code == 403
    conclude_and_publish(app, sealed_cycle)
    seal = client.get(f"/api/v1/cycles/{cycle_id}/seal").get_json()
    assert seal["algorithm"] == "rfc6962-sha256" and seal["root"] == proof["root"] and seal["leaves"] == 12
    assert proof["leaf_hash"] in seal["leaf_hashes"] and merkle.check_seal(seal) == []
    # The root and the number of leaves are part of the published checksum.
    document = client.get(f"/api/v1/cycles/{cycle_id}/results").get_json()
    assert document["seal"] == {"algorithm": "rfc6962-sha256", "root": seal["root"], "leaves": 12}
    with app.app_context():
        digest = db.session.get(Cycle, cycle_id).results_digest
    assert digest_of_payload(digest_payload_from_json(document)) == digest
    document["seal"]["root"] = "0" * 64
    assert digest_of_payload(digest_payload_from_json(document)) != digest
    # Offline, from the public seal and the voter's downloaded proof or their secret code.
    (tmp_path / "seal.json").write_text(json.dumps(seal))
    (tmp_path / "proof.json").write_text(json.dumps(proof))

    def verify(*args):
        return subprocess.run([sys.executable, "-m", "app.tally", "verify-receipt", "--seal",
                               str(tmp_path / "seal.json"), *args], cwd=ROOT, capture_output=True, text=True)

    assert verify("--proof", str(tmp_path / "proof.json")).returncode == 0
    choices = ",".join(str(p) for p in voter["choice"])
    run = verify("--cycle", str(cycle_id), "--choices", choices, "--secret", voter["secret"].lower())
    assert run.returncode == 0 and "in the seal" in run.stdout
    wrong = verify("--cycle", str(cycle_id), "--choices", str(sealed_cycle["proposals"][1]) + ",999",
                   "--secret", voter["secret"])
    assert wrong.returncode == 1 and "FAIL" in wrong.stdout
    seal["leaf_hashes"][0] = "f" * 64
    (tmp_path / "seal.json").write_text(json.dumps(seal))
    assert verify("--proof", str(tmp_path / "proof.json")).returncode == 1
    assert verify("--proof", str(tmp_path / "missing.json")).returncode == 2


def test_receipt_check_says_sealed_and_shows_no_choice_and_no_secret(app, client, sealed_cycle):
    voter = sealed_cycle["voters"][0]
    answer = client.get(f"/api/v1/receipts/{voter['receipt']}")
    body = answer.get_json()
    assert body["sealed"] is True and body["proof"]["leaves"] == 12
    assert body["proof"]["leaf_hash"] == merkle.leaf_hash(
        merkle.leaf_text(sealed_cycle["cycle"], voter["choice"], voter["secret"]))
    assert "leaf" not in body["proof"] and voter["secret"] not in answer.get_data(as_text=True)
    page = client.get(f"/en/receipts?code={voter['receipt']}").get_data(as_text=True)
    assert body["proof"]["leaf_hash"] in page and voter["secret"] not in page


def test_voter_receipt_page_shows_the_secret_and_the_proof(app, client, sealed_cycle, make_user):
    cycle_id, voter = sealed_cycle["cycle"], sealed_cycle["voters"][0]
    login(client, voter["iin"])
    page = client.get(f"/en/cycles/{cycle_id}/ballot/receipt").get_data(as_text=True)
    proof = client.get(f"/api/v1/cycles/{cycle_id}/ballot/proof", headers=voter["headers"]).get_json()
    assert voter["secret"] in page and proof["leaf_hash"] in page and proof["root"] in page
    assert all(h in page for h in proof["audit_path"])
    assert f"/en/cycles/{cycle_id}/ballot/proof.json" in page
    download = client.get(f"/en/cycles/{cycle_id}/ballot/proof.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data) == proof
    # Another resident who did not vote gets no proof, and nobody logged out does.
    _other, other_iin = make_user(territory="751410000")
    AuthActions(client).logout()
    assert client.get(f"/en/cycles/{cycle_id}/ballot/proof.json").status_code in (302, 401)
    login(client, other_iin)
    assert client.get(f"/en/cycles/{cycle_id}/ballot/proof.json").status_code == 404


def test_a_tampered_ballot_fails_flask_cycles_verify_and_the_voters_check(app, client, runner, sealed_cycle):
    cycle_id, voter = sealed_cycle["cycle"], sealed_cycle["voters"][1]
    ok = runner.invoke(args=["cycles", "verify", str(cycle_id)])
    assert ok.exit_code == 0, ok.output
    assert "matches the ballots" in ok.output and "the count matches" in ok.output
    a, _b = sealed_cycle["proposals"]
    with app.app_context():  # someone with database access changes one ballot: b -> a
        ballot = db.session.scalar(db.select(Ballot).where(Ballot.receipt == voter["receipt"]))
        db.session.execute(text("UPDATE ballot_item SET proposal_id = :a WHERE ballot_id = :b"),
                           {"a": a, "b": ballot.id})
        db.session.commit()
    bad = runner.invoke(args=["cycles", "verify", str(cycle_id)])
    assert bad.exit_code != 0
    assert "seal: root stored" in bad.output and "1 stored ballots are not in the seal" in bad.output
    assert "count: proposal" in bad.output  # the stored count no longer matches either
    assert client.get(f"/api/v1/receipts/{voter['receipt']}").get_json()["sealed"] is False
    refused = client.get(f"/api/v1/cycles/{cycle_id}/ballot/proof", headers=voter["headers"])
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "ballot_not_in_seal"
    assert runner.invoke(args=["cycles", "verify", "999999"]).exit_code != 0


def test_a_removed_ballot_and_a_changed_checksum_fail_verify(app, runner, published_cycle):
    ids = published_cycle()
    assert runner.invoke(args=["cycles", "verify", str(ids["cycle"])]).exit_code == 0
    with app.app_context():
        assert db.session.get(BallotSeal, ids["cycle"]).leaves == 25  # sealed at publication
        victim = db.session.scalar(db.select(Ballot.id).where(Ballot.cycle_id == ids["cycle"]))
        db.session.execute(text("DELETE FROM ballot_item WHERE ballot_id = :b"), {"b": victim})
        db.session.execute(text("DELETE FROM ballot WHERE id = :b"), {"b": victim})
        db.session.execute(text("UPDATE cycle SET results_digest = :d WHERE id = :c"),
                           {"d": "0" * 64, "c": ids["cycle"]})
        db.session.commit()
    bad = runner.invoke(args=["cycles", "verify", str(ids["cycle"])])
    assert bad.exit_code != 0
    assert "seal: leaves stored 25, ballots now 24" in bad.output
    assert "checksum: published " + "0" * 64 in bad.output


def test_the_seal_is_frozen_with_the_published_results(app, published_cycle):
    from app.domain.publication import ResultsFrozen

    ids = published_cycle()
    with app.app_context():
        db.session.get(BallotSeal, ids["cycle"]).root = "0" * 64
        with pytest.raises(ResultsFrozen):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(ResultsFrozen):
            db.session.execute(db.delete(BallotSeal).where(BallotSeal.cycle_id == ids["cycle"]))


def test_proof_before_close_is_refused(app, client, make_cycle, make_proposal, make_user, api_token):
    cycle_id = make_cycle(phase="voting")
    proposal = make_proposal(cycle_id)
    _voter, iin = make_user(territory="751410000")
    headers = api_token(iin)
    assert client.put(f"/api/v1/cycles/{cycle_id}/ballot", json={"proposals": [proposal]},
                      headers=headers).status_code == 200
    refused = client.get(f"/api/v1/cycles/{cycle_id}/ballot/proof", headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_sealed"
    receipt = client.get(f"/api/v1/cycles/{cycle_id}/ballot", headers=headers).get_json()["receipt"]
    assert client.get(f"/api/v1/receipts/{receipt}").get_json()["sealed"] is None
