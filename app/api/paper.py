"""Paper ballots: polling points (public), two blind entries by staff, the third person's resolution."""
from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _

from app.api import bp
from app.api.common import ApiError, field, json_body, token_required
from app.api.openapi import I18N, _error_responses, _json, register_paths
from app.domain import paper, voting
from app.extensions import db
from app.i18n import translate


def _proposal_ids(body):
    proposals = field(body, "proposals", list, required=True)
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in proposals):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {"proposals": [_("This field has the wrong type.")]})
    return proposals


def _newcomer(body):
    resident = field(body, "resident", dict)
    if resident is None:
        return None
    values = {}
    for name in ("full_name", "territory", "document"):
        value = resident.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                           {name: [_("This field has the wrong type.")]})
        values[name] = value or ""
    return paper.Newcomer(values["full_name"], values["territory"], values["document"])


def point_json(point, lang):
    return {"id": point.id, "place": point.place(lang), "place_i18n": point.place_i18n,
            "opens_at": point.opens_at.strftime("%H:%M"), "closes_at": point.closes_at.strftime("%H:%M")}


@bp.get("/cycles/<id:cycle_id>/polling-points")
def polling_points(cycle_id):
    cycle = voting.get_cycle(cycle_id)
    lang = str(get_locale())
    return {"points": [point_json(p, lang) for p in paper.points(cycle)]}


@bp.post("/cycles/<id:cycle_id>/paper-ballots")
@token_required
def enter_paper_ballot(cycle_id):
    cycle = voting.get_cycle(cycle_id)
    body = json_body()
    iin = field(body, "iin", str, required=True)
    proposals = _proposal_ids(body)
    point = field(body, "point", int)
    outcome = paper.enter_ballot(g.api_user, cycle, iin, proposals, current_app.config["IIN_HMAC_KEY"],
                                 point_id=point, newcomer=_newcomer(body))
    answer = paper.entry_json(outcome.entry)
    if outcome.ballot is not None:
        answer["receipt"], answer["secret"] = outcome.ballot.receipt, outcome.ballot.secret
    db.session.commit()  # a mismatch is kept for the third person, then reported as a conflict
    if outcome.status == "mismatch":
        raise ApiError(409, "entry_mismatch", translate(paper.MISMATCH))
    return answer, 201 if outcome.ballot is not None else 202


@bp.post("/cycles/<id:cycle_id>/paper-ballots/<id:entry_id>/resolution")
@token_required
def resolve_paper_ballot(cycle_id, entry_id):
    cycle = voting.get_cycle(cycle_id)
    entry = paper.get_entry(cycle, entry_id)
    proposals = _proposal_ids(json_body())
    ballot = paper.resolve_entry(g.api_user, entry, proposals)
    answer = {**paper.entry_json(entry), "receipt": ballot.receipt, "secret": ballot.secret}
    db.session.commit()
    return answer, 201


ENTRY = {"type": "object", "required": ["entry", "status"], "properties": {
    "entry": {"type": "integer", "description": "Number of the paper ballot's entry"},
    "status": {"type": "string", "enum": ["awaiting_second_entry", "stored"]},
    "point": {"type": "integer", "nullable": True},
    "entered_at": {"type": "string", "format": "date-time", "nullable": True},
    "receipt": {"type": "string", "description": "Once stored: the ballot's receipt code"},
    "secret": {"type": "string", "description": "Once stored: the ballot's secret code in the seal, "
               "for the resident's receipt slip (with the receipt code they check their sealed ballot)"}}}
POINT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "place": {"type": "string"}, "place_i18n": I18N,
    "opens_at": {"type": "string", "example": "09:00"}, "closes_at": {"type": "string", "example": "18:00"}}}
CYCLE_ID = {"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PROPOSALS = {"type": "array", "items": {"type": "integer"}}

register_paths({
    "/cycles/{cycle_id}/polling-points": {"get": {
        "summary": "Polling points where residents vote on paper",
        "description": "Public. Each point is open daily during voting at the hours given.",
        "parameters": [CYCLE_ID],
        "responses": {"200": {"description": "The points", **_json({"type": "object", "properties": {
            "points": {"type": "array", "items": {"$ref": "#/components/schemas/PollingPoint"}}}})},
            **_error_responses(404)}}},
    "/cycles/{cycle_id}/paper-ballots": {"post": {
        "summary": "Enter a paper ballot (first or second entry)",
        "description": "Staff of the cycle's territory, in `voting`. The IIN from the resident's identity "
                       "document (a resident of the territory; never stored, only a keyed hash) and the "
                       "choices on the paper. The first entry answers 202 `awaiting_second_entry`; the "
                       "same ballot entered by another staff member, without seeing the first, answers "
                       "201 `stored` with the receipt when both agree, else 409 `entry_mismatch` (the "
                       "ballot waits for a third staff member). One ballot per person per cycle across "
                       "channels: 409 `already_voted`. A resident without an account is added with "
                       "`resident` (404 `resident_not_registered` without it), residence verified.",
        "parameters": [CYCLE_ID],
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["iin", "proposals"],
                        "properties": {
                            "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
                            "proposals": PROPOSALS,
                            "point": {"type": "integer", "description": "The polling point's id"},
                            "resident": {"type": "object", "properties": {
                                "full_name": {"type": "string"},
                                "territory": {"type": "string", "description": "KATO code of the home unit"},
                                "document": {"type": "string", "enum": ["id_card", "passport",
                                                                        "address_certificate"]}}}}})},
        "responses": {
            "201": {"description": "Both entries agree: the ballot is stored",
                    **_json({"$ref": "#/components/schemas/PaperEntry"})},
            "202": {"description": "First entry kept: awaiting the second",
                    **_json({"$ref": "#/components/schemas/PaperEntry"})},
            **_error_responses(400, 401, 403, 404, 409, 422)}}},
    "/cycles/{cycle_id}/paper-ballots/{entry_id}/resolution": {"post": {
        "summary": "Settle a paper ballot whose two entries differ",
        "description": "A third staff member of the territory (who made neither entry, else 403 "
                       "`third_person_required`), in `voting`: the choices the paper shows.",
        "parameters": [CYCLE_ID, {"name": "entry_id", "in": "path", "required": True,
                                  "schema": {"type": "integer"}}],
        "security": [{"bearer": []}],
        "requestBody": {"required": True, **_json({"type": "object", "required": ["proposals"],
                                                   "properties": {"proposals": PROPOSALS}})},
        "responses": {"201": {"description": "The ballot is stored",
                              **_json({"$ref": "#/components/schemas/PaperEntry"})},
                      **_error_responses(400, 401, 403, 404, 409, 422)}}},
}, {"PaperEntry": ENTRY, "PollingPoint": POINT})
