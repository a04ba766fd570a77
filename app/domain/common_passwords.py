"""The most common passwords, refused when a password is set.

data/common-passwords.txt.gz is the list Django ships (django/contrib/auth, version 5.2.8:
19,640 passwords, lower-cased, from Royce Williams' compilation of leaked-password lists),
under Django's BSD licence (data/LICENSE-common-passwords). Comparison is case-insensitive and
ignores surrounding spaces; a password of one repeated character ("          ") is refused too.
"""
import functools
import gzip
from pathlib import Path

LIST = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@functools.cache
def _passwords():
    with gzip.open(LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common(password):
    text = (password or "").strip().lower()
    return len(set(password or "")) <= 1 or text in _passwords()
