"""Stored files (app.domain.files) as HTTP responses: ETag by content hash, 304 without
reading the bytes, and the caller's Cache-Control (the access rules stay in the views)."""
from flask import Response, abort, request

from app.domain import files


def send_stored_file(file_id, cache_control=None, download_name=None):
    """The stored file as a response, 304 when the client holds it, 404 when there is none."""
    stored = files.get(file_id) if file_id is not None else None
    if stored is None:
        abort(404)
    if stored.sha256 in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(files.read(stored), mimetype=stored.content_type)
    response.set_etag(stored.sha256)
    if cache_control:
        response.headers["Cache-Control"] = cache_control
    if download_name:
        response.headers["Content-Disposition"] = f'inline; filename="{download_name}"'
    return response
