"""The public JSON API, version 1 (the contract is ../shared/api.md)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import accounts, cycles, openapi, paper, proposals, results, territories, voting  # noqa: E402,F401
