"""The public JSON API, version 1 (the contract is ../shared/api.md)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import accounts, openapi, territories  # noqa: E402,F401
from app.api import cycles, proposals, results, voting  # noqa: E402,F401
