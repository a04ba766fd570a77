"""PUT/GET /api/v1/cycles/<id>/ballot: the caller's ballot, and its proof in the seal;
GET /api/v1/receipts/<code>: anyone's check."""
from flask import g
from flask_babel import gettext as _

from app import observability
from app.api import bp
from app.api.common import ApiError, field, json_body, token_required
from app.api.openapi import _error_responses, _json, register_paths
from app.domain import seal, voting
from app.extensions import db
from app.security import ballots_by_account, throttled_receipt_check


def ballot_json(ballot):
    return {"proposals": [item.proposal_id for item in ballot.items], "receipt": ballot.receipt,
            "secret": ballot.secret, "cast_at": ballot.cast_at.isoformat(),
            "updated_at": ballot.updated_at.isoformat() if ballot.updated_at else None}


@bp.put("/cycles/<id:cycle_id>/ballot")
@token_required
def put_ballot(cycle_id):
    cycle = voting.get_cycle(cycle_id, lock=True)
    body = json_body()
    proposals = field(body, "proposals", list, required=True)
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in proposals):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {"proposals": [_("This field has the wrong type.")]})
    throttle_key = str(g.api_user.id)
    ballots_by_account.take(throttle_key)
    answer = ballot_json(voting.cast_ballot(g.api_user, cycle, proposals, locked=True))
    db.session.commit()  # the answer is built first: committing expires what it read
    observability.ballot_cast()
    return answer


@bp.get("/cycles/<id:cycle_id>/ballot")
@token_required
def get_ballot(cycle_id):
    cycle = voting.get_cycle(cycle_id)
    return ballot_json(voting.require_ballot(g.api_user, cycle))


@bp.get("/cycles/<id:cycle_id>/ballot/proof")
@token_required
def get_ballot_proof(cycle_id):
    """The caller's ballot in the seal, from `closed` on: leaf, leaf hash, index, audit path, root."""
    cycle = voting.get_cycle(cycle_id)
    return seal.proof_for_voter(g.api_user, cycle)


@bp.get("/receipts/<code>")
def receipt(code):
    """Public: is the ballot with this receipt code stored and, once published, counted?"""
    return throttled_receipt_check(code).as_json()


BALLOT = {"type": "object", "required": ["proposals", "receipt", "cast_at"], "properties": {
    "proposals": {"type": "array", "items": {"type": "integer"}},
    "receipt": {"type": "string", "description": "Random code identifying the ballot"},
    "secret": {"type": "string", "description": "The ballot's secret code, for the voter alone: part of "
                                                "its leaf in the seal (never shown to anyone else)"},
    "cast_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time", "nullable": True}}}

RECEIPT_CHECK = {"type": "object", "required": ["cycle", "stored", "counted", "channel"], "properties": {
    "cycle": {"type": "integer"},
    "stored": {"type": "boolean", "enum": [True]},
    "counted": {"type": "boolean", "nullable": True,
                "description": "null until the cycle's results are published"},
    "channel": {"type": "string", "enum": ["online", "paper"]},
    "sealed": {"type": "boolean", "nullable": True,
               "description": "null until voting closes and the ballots are sealed; false if the "
                              "ballot as stored now is not in the seal"},
    "proof": {"type": "object", "nullable": True, "description": "The ballot's place in the seal "
              "(no leaf: neither the choices nor the secret)",
              "properties": {"algorithm": {"type": "string"}, "leaf_hash": {"type": "string"},
                             "index": {"type": "integer"}, "leaves": {"type": "integer"},
                             "audit_path": {"type": "array", "items": {"type": "string"}},
                             "root": {"type": "string"}}}}}

PROOF = {"type": "object", "required": ["leaf_hash", "index", "audit_path", "root"], "properties": {
    "cycle": {"type": "integer"}, "algorithm": {"type": "string", "enum": ["rfc6962-sha256"]},
    "leaf": {"type": "string", "description": "The ballot's leaf text (its choices and secret code)"},
    "leaf_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "index": {"type": "integer"},
    "leaves": {"type": "integer"},
    "audit_path": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    "root": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}}

CYCLE_ID = [{"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

register_paths({"/cycles/{cycle_id}/ballot": {
    "put": {
        "parameters": CYCLE_ID,
        "summary": "Cast or replace the caller's ballot",
        "description": "A resident of the cycle's territory (or of a unit inside it), while the "
                       "cycle is in `voting`. `single`: exactly one project, final once cast "
                       "(409 `ballot_final`); `approval`: 1 to `max_choices` projects; `knapsack`: "
                       "total cost within the budget. Only admitted proposals of the cycle (422). "
                       "Rate-limited per account (429 with Retry-After).",
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["proposals"],
                        "properties": {"proposals": {"type": "array", "items": {"type": "integer"}}}})},
        "responses": {"200": {"description": "The stored ballot", **_json({"$ref": "#/components/schemas/Ballot"})},
                      **_error_responses(400, 401, 403, 404, 409, 422, 429)}},
    "get": {
        "summary": "The caller's ballot in this cycle",
        "parameters": CYCLE_ID,
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "The ballot", **_json({"$ref": "#/components/schemas/Ballot"})},
                      **_error_responses(401, 404)}},
},
    "/cycles/{cycle_id}/ballot/proof": {"get": {
        "summary": "The caller's ballot in the cycle's seal",
        "description": "The voter, from `closed` on: the ballot's leaf (with its secret code: keep it "
                       "private), leaf hash, index, audit path (RFC 6962) and the seal's root. Check it "
                       "offline against the published seal: `python -m app.tally verify-receipt "
                       "--seal seal.json --proof proof.json`. 404 no_ballot; 409 not_sealed before "
                       "the ballots are sealed; 409 ballot_not_in_seal if the stored ballot is not "
                       "the one sealed.",
        "parameters": CYCLE_ID,
        "security": [{"bearer": []}],
        "responses": {"200": {"description": "The proof", **_json({"$ref": "#/components/schemas/BallotProof"})},
                      **_error_responses(401, 404, 409)}}},
    "/receipts/{code}": {"get": {
        "summary": "Check a receipt code",
        "description": "Public, rate-limited per client address (429 with Retry-After). Tells whether "
                       "the ballot with this receipt code is stored and, once the cycle's results are "
                       "published, whether it was counted (`null` before). Never the choices, never "
                       "the voter. Case, spaces and dashes in the code do not matter. 404 "
                       "`receipt_unknown` for a code no ballot has.",
        "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "K7QX-3M9P-WT2R-8HZA"}],
        "responses": {"200": {"description": "The ballot is stored",
                              **_json({"$ref": "#/components/schemas/ReceiptCheck"})},
                      **_error_responses(404, 429)}}},
}, {"Ballot": BALLOT, "ReceiptCheck": RECEIPT_CHECK, "BallotProof": PROOF})
