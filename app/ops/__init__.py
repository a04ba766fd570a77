"""Operations endpoints: /healthz, /readyz and /metrics (outside the language prefix)."""
from flask import Blueprint

bp = Blueprint("ops", __name__)

from app.ops import routes  # noqa: E402,F401
