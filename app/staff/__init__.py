"""The staff console: every page akimat staff work in, from a new cycle to implementation."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from app.staff import conclusions, paper, routes  # noqa: E402,F401
