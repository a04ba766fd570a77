"""Proposals and their review: /cycles/<id>/proposals, /proposals/<id>, /proposals/<id>/review.

Vote counts are not shown here: the voting and results work adds them where the phase allows."""
import json

from flask import current_app, g, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app import notifications
from app.api import bp
from app.api.common import ApiError, field, i18n_field, json_body, optional_token, token_required
from app.api.cycles import _moment
from app.api.openapi import I18N, I18N_FIELD_NOTE, _error_responses, _json, register_paths
from app.domain import cycles as cycle_domain
from app.domain import maps, texts
from app.domain import proposals as proposal_domain
from app.extensions import db
from app.languages import LANGUAGES
from app.models import ProposalStatus

STATUSES = [s.value for s in ProposalStatus]


def _iso(moment):
    return moment.isoformat() if moment else None


def proposal_summary(proposal):
    return {"id": proposal.id, "cycle": proposal.cycle_id, "title": proposal.title,
            "title_i18n": proposal.title_i18n, "category": proposal.category, "cost": proposal.cost,
            "status": proposal.status}


def proposal_json(proposal):
    data = proposal_summary(proposal)
    reason, reason_language = texts.localized(proposal.review_reason_i18n, str(get_locale()))
    data.update({
        "description": proposal.description, "language": proposal.language,
        "address": proposal.address, "latitude": proposal.latitude, "longitude": proposal.longitude,
        "territory": proposal.territory.code, "created_at": _iso(proposal.created_at),
        "review": {"reason": reason or None, "reason_language": reason_language if reason else None,
                   "reason_i18n": proposal.review_reason_i18n, "reviewed_at": _iso(proposal.reviewed_at),
                   "revision_deadline": _iso(proposal.revision_deadline)},
        "photos": [url_for("cycles.photo", lang_code=str(get_locale()), proposal_id=proposal.id,
                           filename=photo.filename) for photo in proposal.photos],
    })
    return data


def _number(body, name):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(422, "validation_failed", _("Please correct the highlighted fields."),
                       {name: [_("This field has the wrong type.")]})
    return value


@bp.get("/cycles/<id:cycle_id>/proposals")
@optional_token
def list_proposals(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    items, _total = proposal_domain.search_proposals(
        cycle, category=request.args.get("category") or None, status=request.args.get("status") or None,
        q=request.args.get("q") or None, page=page, per_page=1000)
    return [proposal_summary(p) for p in items]


@bp.get("/cycles/<id:cycle_id>/proposals.geojson")
@optional_token
def proposals_geojson(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    collection = maps.feature_collection(cycle, category=request.args.get("category") or None,
                                         status=request.args.get("status") or None,
                                         q=request.args.get("q") or None)
    # RFC 7946 §12: the GeoJSON media type, so QGIS and browsers know what they hold.
    return current_app.response_class(json.dumps(collection, ensure_ascii=False),
                                      mimetype="application/geo+json")


@bp.post("/cycles/<id:cycle_id>/proposals")
@token_required
def submit_proposal(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    body = json_body()
    values = {"title": field(body, "title", str), "description": field(body, "description", str),
              "category": field(body, "category", str), "cost": field(body, "cost", int),
              "address": field(body, "address", str), "latitude": _number(body, "latitude"),
              "longitude": _number(body, "longitude")}
    # The language the author wrote in: stated, or else the request's language.
    language = field(body, "language", str) or str(get_locale())
    proposal = proposal_domain.submit_proposal(g.api_user, cycle, values, language=language)
    db.session.commit()
    notifications.notify_proposal_submitted(proposal)
    return {"id": proposal.id}, 201


@bp.get("/proposals/<id:proposal_id>")
@optional_token
def get_proposal(proposal_id):
    return proposal_json(proposal_domain.get_proposal(proposal_id, g.api_user))


@bp.post("/proposals/<id:proposal_id>/review")
@token_required
def review_proposal(proposal_id):
    proposal = proposal_domain.get_proposal(proposal_id, g.api_user)
    body = json_body(required=("decision",))
    proposal_domain.review_proposal(
        g.api_user, proposal, field(body, "decision", str, required=True),
        reason=i18n_field(body, "reason"),
        revision_deadline=_moment(body.get("revision_deadline"), "revision_deadline"))
    db.session.commit()
    notifications.notify_proposal_reviewed(proposal)
    return proposal_json(proposal)


_CYCLE_ID = [{"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_PROPOSAL_ID = [{"name": "proposal_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_CATEGORY = {"type": "string", "enum": ["greening", "parks", "sports", "playgrounds", "lighting",
                                        "sidewalks", "yards", "other"]}
_SUMMARY = {"type": "object", "properties": {
    "id": {"type": "integer"}, "cycle": {"type": "integer"}, "title": {"type": "string"},
    "title_i18n": I18N, "category": _CATEGORY, "cost": {"type": "integer"},
    "status": {"type": "string", "enum": STATUSES}}}
_PROPOSAL = {"type": "object", "properties": {
    **_SUMMARY["properties"], "description": {"type": "string", "description": "sanitised HTML"},
    "language": {"type": "string"}, "address": {"type": "string"},
    "latitude": {"type": "number", "nullable": True}, "longitude": {"type": "number", "nullable": True},
    "territory": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
    "review": {"type": "object", "properties": {
        "reason": {"type": "string", "nullable": True,
                   "description": "In the Accept-Language, else the first language with text (ru, kk, en)"},
        "reason_language": {"type": "string", "nullable": True, "enum": list(LANGUAGES) + [None],
                            "description": "the language `reason` is in"},
        "reason_i18n": I18N,
        "reviewed_at": {"type": "string", "format": "date-time", "nullable": True},
        "revision_deadline": {"type": "string", "format": "date-time", "nullable": True}}},
    "photos": {"type": "array", "items": {"type": "string"}}}}

_FEATURE = {"type": "object", "required": ["type", "geometry", "properties"], "properties": {
    "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "integer"},
    "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"},
                        "description": "[longitude, latitude], WGS 84 degrees (RFC 7946 §3.1.1)"}}},
    "properties": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "category": _CATEGORY,
        "status": {"type": "string", "enum": STATUSES}, "cost": {"type": "integer"},
        "address": {"type": "string"},
        "votes": {"type": "integer", "nullable": True, "description": "only once published"},
        "eligible": {"type": "boolean", "nullable": True, "description": "only once published"},
        "selected": {"type": "boolean", "description": "only once published"},
        "decision": {"type": "string", "nullable": True, "enum": ["approved", "not_approved", None],
                     "description": "the akimat's conclusion; only once published"},
        "implementation": {"type": "string", "nullable": True, "enum": [
            "planned", "procurement", "works", "completed", "cancelled", None],
            "description": "the latest implementation update; only once published"}}}}}
_FEATURE_COLLECTION = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]},
    "features": {"type": "array", "items": {"$ref": "#/components/schemas/ProposalFeature"}}}}

register_paths({
    "/cycles/{cycle_id}/proposals.geojson": {
        "get": {"summary": "A cycle's proposals that have a place, as RFC 7946 GeoJSON (votes, "
                           "selection and decisions only once the results are published)",
                "parameters": _CYCLE_ID + [
                    {"name": "category", "in": "query", "schema": _CATEGORY},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "search text"}],
                "responses": {"200": {"description": "A GeoJSON FeatureCollection", "content": {
                    "application/geo+json": {"schema": {"$ref": "#/components/schemas/ProposalFeatureCollection"}}}},
                    **_error_responses(404)}}},
    "/cycles/{cycle_id}/proposals": {
        "get": {"summary": "A cycle's proposals (withdrawn ones are not listed)", "parameters": _CYCLE_ID + [
            {"name": "category", "in": "query", "schema": _CATEGORY},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": STATUSES}},
            {"name": "q", "in": "query", "schema": {"type": "string"}, "description": "search text"}],
                "responses": {"200": {"description": "Proposals", **_json({
                    "type": "array", "items": {"$ref": "#/components/schemas/ProposalSummary"}})},
                    **_error_responses(404)}},
        "post": {"summary": "Submit a proposal (a resident of the territory, while proposals are open)",
                 "security": [{"bearer": []}], "parameters": _CYCLE_ID,
                 "requestBody": {"required": True, **_json({"type": "object",
                                 "required": ["title", "description", "category", "cost"], "properties": {
                                     "title": {"type": "string"}, "description": {"type": "string"},
                                     "category": _CATEGORY, "cost": {"type": "integer", "minimum": 1},
                                     "address": {"type": "string"}, "latitude": {"type": "number"},
                                     "language": {"type": "string", "enum": list(LANGUAGES),
                                                  "description": "language the text is written in; "
                                                                 "default: Accept-Language"},
                                     "longitude": {"type": "number"}}})},
                 "responses": {"201": {"description": "Created", **_json({
                     "type": "object", "properties": {"id": {"type": "integer"}}})},
                     **_error_responses(400, 401, 403, 404, 409, 422)}}},
    "/proposals/{proposal_id}": {
        "get": {"summary": "One proposal, with the council's decision and reason",
                "parameters": _PROPOSAL_ID,
                "responses": {"200": {"description": "The proposal", **_json(
                    {"$ref": "#/components/schemas/Proposal"})}, **_error_responses(404)}}},
    "/proposals/{proposal_id}/review": {
        "post": {"summary": "The Expert Council's decision (staff, in review); a rejection needs a reason",
                 "security": [{"bearer": []}], "parameters": _PROPOSAL_ID,
                 "requestBody": {"required": True, **_json({"type": "object", "required": ["decision"],
                                 "properties": {
                                     "decision": {"type": "string", "enum": [
                                         "admitted", "rejected", "revision_requested"]},
                                     "reason": {"type": "string", "description": I18N_FIELD_NOTE % "reason"},
                                     "reason_i18n": I18N,
                                     "revision_deadline": {"type": "string", "format": "date-time",
                                                           "description": "for revision_requested"}}})},
                 "responses": {"200": {"description": "The proposal", **_json(
                     {"$ref": "#/components/schemas/Proposal"})},
                     **_error_responses(400, 401, 403, 404, 409, 422)}}},
}, {"ProposalSummary": _SUMMARY, "Proposal": _PROPOSAL, "ProposalFeature": _FEATURE,
    "ProposalFeatureCollection": _FEATURE_COLLECTION})
