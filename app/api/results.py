"""Results, conclusions, publication and open data in the API (../shared/api.md)."""
from datetime import date

from flask import g
from flask_babel import get_locale
from flask_babel import gettext as _

from app import downloads, notifications, results_cache
from app.api import bp
from app.api.common import ApiError, field, json_body, optional_token, token_required
from app.api.openapi import _error_responses, _json, register_paths
from app.domain import access, conclusions, lifecycle, open_data, records, seal
from app.extensions import db
from app.languages import LANGUAGES
from app.models import Cycle, Proposal


def _record_or_404(model, record_id):
    record = records.get(model, record_id)
    if record is None:
        raise ApiError(404, "not_found", _("This page does not exist."))
    return record


def _cycle_or_404(cycle_id):
    cycle = records.get(Cycle, cycle_id)
    seen_as = access.results_access(g.api_user, cycle)
    if seen_as == "missing":
        raise ApiError(404, "not_found", _("This page does not exist."))
    if seen_as == "forbidden":
        raise ApiError(403, "forbidden", _("The results of this cycle are not published yet."))
    return cycle


@bp.get("/cycles/<id:cycle_id>/results")
@optional_token
def cycle_results(cycle_id):
    cycle = _cycle_or_404(cycle_id)
    results_cache.offer(cycle)
    return open_data.results_document(cycle, str(get_locale()))


@bp.put("/proposals/<id:proposal_id>/conclusion")
@token_required
def put_conclusion(proposal_id):
    proposal = _record_or_404(Proposal, proposal_id)
    body = json_body()
    decision = field(body, "decision", str, required=True)
    justification = field(body, "justification", dict) or {}
    number = field(body, "document_number", str)
    raw_date = field(body, "document_date", str)
    on_date = None
    if raw_date:
        try:
            on_date = date.fromisoformat(raw_date)
        except ValueError:
            raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                           {"document_date": [_("Enter a date.")]})
    conclusion = conclusions.record_conclusion(g.api_user, proposal, decision, justification,
                                               document_number=number, document_date=on_date)
    db.session.commit()
    notifications.notify_proposal_concluded(proposal)
    return {"proposal": proposal.id,
            "conclusion": open_data.conclusion_dict(conclusion, str(get_locale())),
            "missing_languages": conclusions.missing_languages(conclusion)}


@bp.post("/cycles/<id:cycle_id>/publish")
@token_required
def publish_cycle(cycle_id):
    cycle = _record_or_404(Cycle, cycle_id)
    lifecycle.publish(cycle, g.api_user)
    db.session.commit()
    notifications.notify_cycle_published(cycle)
    return {"id": cycle.id, "phase": cycle.phase, "published_at": cycle.published_at.isoformat(),
            "results_digest": cycle.results_digest}


@bp.get("/cycles/<id:cycle_id>/results.csv")
@optional_token
def results_csv(cycle_id):
    return downloads.results_csv(_cycle_or_404(cycle_id))


@bp.get("/cycles/<id:cycle_id>/ballots.pb")
@optional_token
def ballots_pb(cycle_id):
    return downloads.ballots_pb(_cycle_or_404(cycle_id))


@bp.get("/cycles/<id:cycle_id>/seal")
@optional_token
def cycle_seal(cycle_id):
    """The seal of the cycle's ballots (RFC 6962 Merkle tree), with every leaf hash."""
    return seal.public_seal(_cycle_or_404(cycle_id))


@bp.get("/feed.atom")
def feed():
    return downloads.atom_feed()


@bp.get("/territories/<territory_code>/feed.atom")
def territory_feed(territory_code):
    return downloads.atom_feed(territory_code)


I18N_REF = {"$ref": "#/components/schemas/I18nText"}
CONCLUSION = {"type": "object", "nullable": True, "properties": {
    "decision": {"type": "string", "enum": ["approved", "not_approved"]},
    "justification": {"type": "string", "nullable": True,
                      "description": "In the Accept-Language, else the first language with text"},
    "justification_language": {"type": "string", "nullable": True},
    "justification_i18n": I18N_REF,
    "document_number": {"type": "string", "nullable": True},
    "document_date": {"type": "string", "format": "date", "nullable": True},
    "has_document": {"type": "boolean"}}}
DIGEST_RECIPE = (
    "results_digest = SHA-256 (hex) of the UTF-8 bytes of json.dumps(payload, sort_keys=True, "
    "ensure_ascii=False, separators=(',', ':')) where payload = {cycle, budget, rule, min_voters, "
    "voters, proposals: [{id, title, cost, votes, eligible, selected, decision, "
    "justification_i18n, document_number, document_date} for each proposal sorted by id, the "
    "last four taken from its conclusion]}, plus seal: {root, leaves} when the response has a "
    "seal (cycles published before ballots were sealed have none).")
RESULTS = {"type": "object", "description": DIGEST_RECIPE, "properties": {
    "cycle": {"type": "integer"}, "title": {"type": "string"}, "title_i18n": I18N_REF,
    "territory": {"type": "string"}, "territory_name": {"type": "string"},
    "year": {"type": "integer"}, "phase": {"type": "string"},
    "published_at": {"type": "string", "format": "date-time", "nullable": True},
    "results_digest": {"type": "string", "nullable": True},
    "budget": {"type": "integer"}, "rule": {"type": "string", "enum": ["greedy", "mes"]},
    "ballot_style": {"type": "string"}, "min_voters": {"type": "integer"},
    "voters": {"type": "integer", "nullable": True}, "population": {"type": "integer", "nullable": True},
    "voters_by_channel": {"type": "object", "description": "Stored ballots by channel: online, and paper "
                          "ballots entered at polling points", "properties": {
                              "online": {"type": "integer"}, "paper": {"type": "integer"}}},
    "seal": {"type": "object", "nullable": True, "description": "The seal of the ballots, made at close",
             "properties": {"algorithm": {"type": "string", "enum": ["rfc6962-sha256"]},
                            "root": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "leaves": {"type": "integer"}}},
    "proposals": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "title_i18n": I18N_REF,
        "category": {"type": "string"}, "cost": {"type": "integer"}, "votes": {"type": "integer"},
        "voters_in_territory": {"type": "integer"}, "eligible": {"type": "boolean"},
        "selected": {"type": "boolean"}, "rank": {"type": "integer", "nullable": True},
        "price_per_voter": {"type": "string", "nullable": True},
        "conclusion": {"$ref": "#/components/schemas/Conclusion"},
        "implementation": {"type": "array", "items": {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["planned", "procurement", "works", "completed",
                                                  "cancelled"]},
            "date": {"type": "string", "format": "date"},
            "note": {"type": "string", "description": "In the Accept-Language, else the first "
                                                      "language with text (ru, kk, en); empty when none"},
            "note_language": {"type": "string", "nullable": True},
            "note_i18n": I18N_REF}}}}}}}}
CYCLE_ID = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PUBLIC_FILE = {"description": "Once published (staff of the territory from closed)"}

register_paths({
    "/cycles/{cycle_id}/results": {"get": {
        "summary": "Results and conclusions of a cycle",
        "description": "Anyone once published; staff of the territory from closed. " + DIGEST_RECIPE,
        "parameters": [CYCLE_ID],
        "responses": {"200": {"description": "Results", **_json({"$ref": "#/components/schemas/Results"})},
                      **_error_responses(403, 404)}}},
    "/proposals/{proposal_id}/conclusion": {"put": {
        "summary": "Record the akimat's conclusion on an admitted proposal (staff, in closed)",
        "security": [{"bearer": []}],
        "parameters": [{"name": "proposal_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["decision"],
                        "properties": {
                            "decision": {"type": "string", "enum": ["approved", "not_approved"]},
                            "justification": I18N_REF,
                            "document_number": {"type": "string", "maxLength": 60},
                            "document_date": {"type": "string", "format": "date"}}})},
        "responses": {"200": {"description": "Recorded", **_json({"type": "object", "properties": {
            "proposal": {"type": "integer"}, "conclusion": {"$ref": "#/components/schemas/Conclusion"},
            "missing_languages": {"type": "array", "items": {"type": "string"}}}})},
            **_error_responses(400, 401, 403, 404, 409, 422)},
        "description": "422 below_min_voters: `approved` for a proposal that is not eligible. "
                       "422 justification_required: `not_approved`, or `approved` for a proposal "
                       "the vote did not select, without a justification. 409 results_published "
                       "after publication."}},
    "/cycles/{cycle_id}/publish": {"post": {
        "summary": "Publish results and conclusions (staff, in closed, every admitted proposal concluded)",
        "security": [{"bearer": []}], "parameters": [CYCLE_ID],
        "responses": {"200": {"description": "Published", **_json({"type": "object", "properties": {
            "id": {"type": "integer"}, "phase": {"type": "string"},
            "published_at": {"type": "string", "format": "date-time"},
            "results_digest": {"type": "string"}}})},
            **_error_responses(401, 403, 404, 409)},
        "description": "409 conclusions_missing lists the proposals without a conclusion in "
                       "error.fields.proposals; 409 wrong_phase when not closed."}},
    "/cycles/{cycle_id}/results.csv": {"get": {
        "summary": "Results as CSV (also at /cycles/{id}/results.csv)", "parameters": [CYCLE_ID],
        "responses": {"200": {**PUBLIC_FILE, "content": {"text/csv": {"schema": {"type": "string"}}}},
                      **_error_responses(403, 404)}}},
    "/cycles/{cycle_id}/ballots.pb": {"get": {
        "summary": "Anonymised ballots in the Pabulib format (also at /cycles/{id}/ballots.pb)",
        "description": "Voter ids are 1..n in an order given by a keyed hash; the VOTES column "
                       "`in_territory` is 1 for voters living in the territory, the only ones who "
                       "count for the minimum (META threshold_scope). Recount with "
                       "`python -m app.tally ballots.pb` (rule and minimum from META), the same as "
                       "`--rule <greedy|mes> --threshold <min_voters>`.",
        "parameters": [CYCLE_ID],
        "responses": {"200": {**PUBLIC_FILE, "content": {"text/plain": {"schema": {"type": "string"}}}},
                      **_error_responses(403, 404)}}},
    "/cycles/{cycle_id}/seal": {"get": {
        "summary": "The seal of the cycle's ballots",
        "description": "Made when voting closes: an RFC 6962 Merkle tree (leaf hash SHA-256(0x00 || "
                       "leaf), node SHA-256(0x01 || left || right)) whose leaves are the ballots, "
                       "ordered by leaf hash. A leaf is the UTF-8 text 'qatysu-ballot-v1\\ncycle:<id>"
                       "\\nproposals:<ids ascending, comma-separated>\\nsecret:<the ballot's secret "
                       "code>'; the secret is known only to the voter, so leaf hashes reveal nothing. "
                       "Anyone once published (staff of the territory from closed); 409 not_sealed "
                       "for a cycle closed before sealing existed and not yet published.",
        "parameters": [CYCLE_ID],
        "responses": {"200": {"description": "The seal", **_json({"$ref": "#/components/schemas/Seal"})},
                      **_error_responses(403, 404, 409)}}},
    "/feed.atom": {"get": {
        "summary": "Atom feed of published results (also at /feed.atom)",
        "parameters": [{"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES)}}],
        "responses": {"200": {"description": "Atom 1.0",
                              "content": {"application/atom+xml": {"schema": {"type": "string"}}}}}}},
    "/territories/{territory_code}/feed.atom": {"get": {
        "summary": "Atom feed of published results of a unit and the units inside it",
        "parameters": [{"name": "territory_code", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9]{9}$"}},
                       {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES)}}],
        "responses": {"200": {"description": "Atom 1.0",
                              "content": {"application/atom+xml": {"schema": {"type": "string"}}}},
                      **_error_responses(404)}}},
}, {"Conclusion": CONCLUSION, "Results": RESULTS, "Seal": {
    "type": "object", "required": ["algorithm", "root", "leaves", "leaf_hashes"], "properties": {
        "cycle": {"type": "integer"}, "algorithm": {"type": "string", "enum": ["rfc6962-sha256"]},
        "root": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "leaves": {"type": "integer"},
        "leaf_hashes": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        "sealed_at": {"type": "string", "format": "date-time", "nullable": True}}}})
