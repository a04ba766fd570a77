"""Domain logic: the programme's rules in plain Python. Nothing here imports Flask.

Functions change the session and flush; the caller (a view, the API, a CLI command) commits
once at the request boundary, and rolls back on any error.
"""
