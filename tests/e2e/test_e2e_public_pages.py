"""Every public page, crawled from /kk/ and /ru/ without logging in, at 390 px: no
critical or serious axe-core violation, no sideways scrolling at 390 or 320 px, and no
Latin-script word beyond browser_checks.LATIN_ALLOWED.

Checks that fail today are listed in KNOWN_FAILURES with exactly what fails, as strict xfails:
when the product fixes one, its test passes, pytest reports XPASS(strict) as a failure, and
the entry goes (issue 12)."""
import pytest
from browser_checks import PAGE_KINDS

LANGS = ("kk", "ru")
KINDS = [kind for kind, _ in PAGE_KINDS] + ["other"]
CHECKS = ("axe", "scroll-390", "scroll-320", "latin")
# Kinds the crawl must reach in every language: the demo has pages of each.
MUST_REACH = {"home", "about", "cycles", "cycle", "proposal", "protocol", "results-index",
              "results", "results-protocol", "login", "register"}


# Every check that failed when the harness landed is fixed (issue 12); add an entry here, with
# exactly what fails, only for a new failure that cannot be fixed at once.
KNOWN_FAILURES = {}


def _cases():
    for check in CHECKS:
        for lang in LANGS:
            for kind in KINDS:
                reason = KNOWN_FAILURES.get((check, lang, kind))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(check, lang, kind, id=f"{check}-{lang}-{kind}", marks=marks)


@pytest.mark.parametrize("lang", LANGS)
def test_crawl_reaches_every_public_page(public_site, lang):
    reports, left = public_site[lang]
    assert not left, f"the crawl stopped at its bound with {len(left)} pages left: {left[:10]}"
    broken = [f"{r.path}: HTTP {r.status}" for r in reports if r.status >= 400]
    assert not broken, "public links lead to error pages:\n" + "\n".join(broken)
    missing = MUST_REACH - {r.kind for r in reports}
    assert not missing, f"no link from /{lang}/ reaches a page of kind {sorted(missing)}"


@pytest.mark.parametrize("check, lang, kind", list(_cases()))
def test_public_pages(public_site, check, lang, kind):
    reports, _ = public_site[lang]
    failures = [f"{r.path}: {problem}" for r in reports if r.kind == kind
                for problem in r.problems.get(check, [])]
    assert not failures, f"{check} on {len(failures)} {lang} {kind} page(s):\n" + "\n".join(failures)
