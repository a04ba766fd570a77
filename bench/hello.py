"""The hello-world baseline of bench/web.py: a bare Flask app served by the same gunicorn."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
