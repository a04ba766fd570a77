from flask_wtf import FlaskForm


class BallotForm(FlaskForm):
    """Only the CSRF token: the chosen proposals are a variable list read from the request."""
