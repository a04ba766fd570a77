"""Cycles and their phases: GET/POST /cycles, GET/PATCH /cycles/<id>, POST /cycles/<id>/phase,
POST /cycles/<id>/protocol (the admission protocol) and POST /cycles/<id>/count (a retry)."""
from datetime import datetime

from flask import g, request
from flask_babel import get_locale
from flask_babel import gettext as _

from app import notifications
from app.api import bp
from app.api.common import ApiError, field, json_body, optional_token, token_required
from app.api.openapi import I18N, _error_responses, _json, register_paths
from app.domain import counting
from app.domain import cycles as cycle_domain
from app.domain import proposals as proposal_domain
from app.extensions import db
from app.languages import LANGUAGES


def _iso(moment):
    return moment.isoformat() if moment else None


def cycle_json(cycle, locale):
    return {
        "id": cycle.id, "territory": cycle.territory.code, "year": cycle.year,
        "title": cycle.title(locale), "title_i18n": cycle.title_i18n,
        "description": cycle.description(locale), "description_i18n": cycle.description_i18n,
        "budget": cycle.budget, "max_project_cost": cycle.max_project_cost,
        "categories": list(cycle.categories or []),
        "ballot": {"style": cycle.ballot_style, "max_choices": cycle.max_choices},
        "rule": cycle.rule, "min_voters": cycle.min_voters, "phase": cycle.phase,
        "schedule": {name: _iso(getattr(cycle, name)) for name in cycle_domain.SCHEDULE_FIELDS},
        "protocol_published_at": _iso(cycle.protocol_published_at),
        "min_assurance": {"propose": cycle.min_assurance_propose, "vote": cycle.min_assurance_vote},
        "residence_verified_to_vote": cycle.residence_verified_to_vote,
        # The count at close runs as a background job: null before the close.
        "count": counting.count_state(cycle),
    }


def _invalid(name, message):
    return ApiError(422, "validation_failed", _("Please correct the highlighted fields."), {name: [message]})


def _moment(value, name):
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(name, _("This field has the wrong type."))
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _invalid(name, _("Enter a date and time in ISO 8601 with an offset."))
    return moment


def _i18n(body, name):
    value = field(body, name, dict)
    if value is None:
        return {}
    out = {}
    for lang in LANGUAGES:
        text = value.get(lang)
        if text is not None and not isinstance(text, str):
            raise _invalid(f"{name}.{lang}", _("This field has the wrong type."))
        if text is not None:
            out[f"{name}_{lang}"] = text
    return out


def _assurance_values(body):
    """`min_assurance` {propose, vote} and `residence_verified_to_vote`, as the body names them."""
    values = {}
    minimum = field(body, "min_assurance", dict) or {}
    for action in ("propose", "vote"):
        if action in minimum:
            values[f"min_assurance_{action}"] = field(minimum, action, str)
    if "residence_verified_to_vote" in body:
        values["residence_verified_to_vote"] = field(body, "residence_verified_to_vote", bool)
    return values


def _ballot_values(body):
    values = {}
    ballot = field(body, "ballot", dict)
    if ballot is not None:
        if "style" in ballot:
            values["ballot_style"] = field(ballot, "style", str)
        if "max_choices" in ballot:
            values["max_choices"] = field(ballot, "max_choices", int)
    return values


def cycle_values(body, partial):
    """The domain's flat values from the API's nested body (only what the body names)."""
    values = {}
    values.update(_i18n(body, "title"))
    values.update(_i18n(body, "description"))
    for name in ("year", "budget", "max_project_cost", "min_voters"):
        if name in body:
            values[name] = field(body, name, int)
    if "categories" in body:
        categories = field(body, "categories", list)
        if categories is not None and not all(isinstance(c, str) for c in categories):
            raise _invalid("categories", _("This field has the wrong type."))
        values["categories"] = categories
    if "rule" in body:
        values["rule"] = field(body, "rule", str)
    values.update(_ballot_values(body))
    values.update(_assurance_values(body))
    schedule = field(body, "schedule", dict)
    if schedule is not None:
        for name in cycle_domain.SCHEDULE_FIELDS:
            if name in schedule:
                values[name] = _moment(schedule[name], name)
    if not partial:
        values = {k: v for k, v in values.items() if v is not None}
    return values


@bp.get("/cycles")
@optional_token
def list_cycles():
    locale = str(get_locale())
    territory = None
    code = request.args.get("territory")
    if code:
        territory = cycle_domain.find_territory(code)
    found = cycle_domain.list_cycles(territory=territory, phase=request.args.get("phase") or None,
                                     viewer=g.api_user)
    return [cycle_json(c, locale) for c in found]


@bp.post("/cycles")
@token_required
def create_cycle():
    body = json_body()
    code = field(body, "territory", str, required=True)
    territory = cycle_domain.find_territory(code)
    cycle = cycle_domain.create_cycle(g.api_user, territory, cycle_values(body, partial=False))
    db.session.commit()
    return {"id": cycle.id}, 201


@bp.get("/cycles/<id:cycle_id>")
@optional_token
def get_cycle(cycle_id):
    return cycle_json(cycle_domain.get_cycle(cycle_id, g.api_user), str(get_locale()))


@bp.patch("/cycles/<id:cycle_id>")
@token_required
def update_cycle(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    body = json_body()
    cycle_domain.update_cycle(g.api_user, cycle, cycle_values(body, partial=True))
    db.session.commit()
    return cycle_json(cycle, str(get_locale()))


@bp.post("/cycles/<id:cycle_id>/phase")
@token_required
def move_phase(cycle_id):
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    body = json_body(required=("phase",))
    cycle_domain.move_phase(g.api_user, cycle, field(body, "phase", str, required=True),
                            confirm_off_schedule=field(body, "confirm_off_schedule", bool) is True)
    db.session.commit()
    notifications.notify_phase_moved(cycle)
    return cycle_json(cycle, str(get_locale()))


@bp.post("/cycles/<id:cycle_id>/count")
@token_required
def retry_count(cycle_id):
    """Start a failed (or lost) count again (staff); the cycle's `count` shows it."""
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    counting.retry_count(g.api_user, cycle)
    db.session.commit()
    return cycle_json(cycle, str(get_locale()))


@bp.post("/cycles/<id:cycle_id>/protocol")
@token_required
def publish_protocol(cycle_id):
    """Publish the admission protocol (staff, in review, every proposal decided); voting opens
    only after it. Published again after revisions, it becomes the final protocol."""
    cycle = cycle_domain.get_cycle(cycle_id, g.api_user)
    proposal_domain.publish_protocol(g.api_user, cycle)
    db.session.commit()
    return {"published_at": _iso(cycle.protocol_published_at)}, 201


_SCHEDULE = {"type": "object", "properties": {
    name: {"type": "string", "format": "date-time", "nullable": True}
    for name in ("proposals_open", "proposals_close", "voting_open", "voting_close")}}
_CATEGORIES = {"type": "array", "items": {"type": "string", "enum": list(cycle_domain.CATEGORIES)}}
_BALLOT = {"type": "object", "properties": {
    "style": {"type": "string", "enum": list(cycle_domain.STYLES)},
    "max_choices": {"type": "integer", "nullable": True, "minimum": 1}}}
_LEVEL = {"type": "string", "enum": ["password", "phone", "eds"]}
_ASSURANCE = {"type": "object", "description": "the weakest identity level that may propose and vote",
              "properties": {"propose": _LEVEL, "vote": _LEVEL}}
_CYCLE_INPUT = {"type": "object", "properties": {
    "territory": {"type": "string", "pattern": "^[0-9]{9}$"}, "year": {"type": "integer"},
    "title": {"$ref": "#/components/schemas/I18nText"},
    "description": {"$ref": "#/components/schemas/I18nText"},
    "budget": {"type": "integer", "minimum": 1, "description": "tenge"},
    "max_project_cost": {"type": "integer", "minimum": 1, "description": "tenge"},
    "categories": _CATEGORIES, "ballot": _BALLOT,
    "rule": {"type": "string", "enum": list(cycle_domain.RULES)},
    "min_voters": {"type": "integer", "minimum": 10}, "schedule": _SCHEDULE,
    "min_assurance": _ASSURANCE, "residence_verified_to_vote": {"type": "boolean"}}}
_CYCLE_REF = {"$ref": "#/components/schemas/Cycle"}
_ID = {"type": "object", "properties": {"id": {"type": "integer"}}}
_PATH_ID = [{"name": "cycle_id", "in": "path", "required": True, "schema": {"type": "integer"}}]

register_paths({
    "/cycles": {
        "get": {"summary": "Budget cycles (drafts only for their staff)",
                "parameters": [{"name": "territory", "in": "query", "schema": {"type": "string"},
                                "description": "KATO code: cycles of this unit and the units inside it"},
                               {"name": "phase", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Cycles", **_json({"type": "array", "items": _CYCLE_REF})},
                              **_error_responses(404)}},
        "post": {"summary": "Create a cycle (staff of the territory); it starts in draft",
                 "security": [{"bearer": []}],
                 "requestBody": {"required": True, **_json({**_CYCLE_INPUT, "required": [
                     "territory", "title", "budget", "max_project_cost"]})},
                 "responses": {"201": {"description": "Created", **_json(_ID)},
                               **_error_responses(400, 401, 403, 404, 422)}}},
    "/cycles/{cycle_id}": {
        "get": {"summary": "One cycle", "parameters": _PATH_ID,
                "responses": {"200": {"description": "The cycle", **_json(_CYCLE_REF)},
                                                      **_error_responses(404)}},
        "patch": {"summary": "Edit a cycle (staff). Ballot and counting settings are frozen from voting on.",
                  "parameters": _PATH_ID,
                  "security": [{"bearer": []}],
                  "requestBody": {"required": True, **_json(_CYCLE_INPUT)},
                  "responses": {"200": {"description": "The cycle", **_json(_CYCLE_REF)},
                                **_error_responses(400, 401, 403, 404, 409, 422)}}},
    "/cycles/{cycle_id}/phase": {
        "post": {"summary": "Move the cycle to its next phase (staff)", "security": [{"bearer": []}],
                 "parameters": _PATH_ID,
                 "requestBody": {"required": True, **_json({"type": "object", "required": ["phase"],
                                 "properties": {"phase": {"type": "string", "enum": [
                                     "proposals", "review", "voting", "closed", "published"]},
                                     "confirm_off_schedule": {"type": "boolean"}}})},
                 "responses": {"200": {"description": "The cycle", **_json(_CYCLE_REF)},
                               **_error_responses(400, 401, 403, 404, 409, 422)}}},
    "/cycles/{cycle_id}/protocol": {
        "post": {"summary": "Publish the admission protocol (staff of the territory, in review, every "
                            "proposal decided; 409 proposals_undecided otherwise)",
                 "security": [{"bearer": []}], "parameters": _PATH_ID,
                 "responses": {"201": {"description": "Published", **_json({
                     "type": "object", "properties": {"published_at": {"type": "string", "format": "date-time"}}})},
                               **_error_responses(401, 403, 404, 409)}}},
    "/cycles/{cycle_id}/count": {
        "post": {"summary": "Start a failed count of the ballots again (staff of the territory); "
                            "409 count_not_retryable while it is done or running",
                 "security": [{"bearer": []}], "parameters": _PATH_ID,
                 "responses": {"200": {"description": "The cycle", **_json(_CYCLE_REF)},
                               **_error_responses(401, 403, 404, 409)}}},
}, {"Cycle": {"type": "object", "properties": {
    "id": {"type": "integer"}, "territory": {"type": "string"}, "year": {"type": "integer"},
    "title": {"type": "string"}, "title_i18n": I18N, "description": {"type": "string"},
    "description_i18n": I18N, "budget": {"type": "integer"}, "max_project_cost": {"type": "integer"},
    "categories": _CATEGORIES, "ballot": _BALLOT, "rule": {"type": "string"},
    "min_voters": {"type": "integer"}, "phase": {"type": "string", "enum": [
        "draft", "proposals", "review", "voting", "closed", "published"]},
    "schedule": _SCHEDULE, "protocol_published_at": {"type": "string", "format": "date-time", "nullable": True},
    "min_assurance": _ASSURANCE, "residence_verified_to_vote": {"type": "boolean"},
    "count": {"type": "object", "nullable": True, "properties": {
        "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100}}}}}})
