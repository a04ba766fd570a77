"""Voting pages: the ballot, its receipt, and turnout statistics for staff."""
from flask import Blueprint

bp = Blueprint("voting", __name__)

from app.voting import routes  # noqa: E402,F401
