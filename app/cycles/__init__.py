from flask import Blueprint

bp = Blueprint("cycles", __name__)

from app.cycles import routes  # noqa: E402,F401
from app.cycles.labels import label_context  # noqa: E402

bp.app_context_processor(label_context)
