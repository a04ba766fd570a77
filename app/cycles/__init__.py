"""Public pages of cycles and proposals, and the resident's own proposals."""
from flask import Blueprint

bp = Blueprint("cycles", __name__)

from app.cycles import routes  # noqa: E402,F401
