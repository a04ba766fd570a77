"""The shape of the code that the rest relies on: no import cycles, no HTML in the API, no 500
for any id in any URL, and pages that offer exactly what the domain accepts."""
import ast
from datetime import datetime, timedelta, timezone

import pytest

from app.extensions import db
from tests.helpers import ROOT, csrf_token, login

APP = ROOT / "app"
# Areas are blueprint packages: their modules import each other (bp and routes) by design,
# so an area counts as one node. Domain, models and engine modules count one by one.
AREAS = {"api", "auth", "cli", "cycles", "demo", "errors", "main", "results", "staff", "voting", "bench", "ops"}


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module):
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in AREAS:
        return ".".join(parts[:2])
    return module


def _import_graph():
    modules = {_module_name(p): p for p in APP.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # function-level imports too
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in modules else base)
        source = _node(name)
        for target in targets:
            if target in modules and target != "app" and name != "app":
                if _node(target) != source:
                    graph.setdefault(source, set()).add(_node(target))
    return graph


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_no_import_cycle_in_app():
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_domain_and_engine_import_no_flask():
    for path in list((APP / "domain").rglob("*.py")) + list((APP / "tally").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "flask" or n.startswith("flask") for n in names), path


def test_api_imports_no_html_area():
    graph = _import_graph()
    html_areas = {"app.auth", "app.cycles", "app.main", "app.results", "app.staff", "app.voting"}
    assert not (graph.get("app.api", set()) & html_areas)


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        ids = [name for name in rule.arguments if name.endswith("_id")]
        if ids:
            yield rule, ids


@pytest.mark.parametrize("bad_id", [0, 2**31, 10**20])
def test_every_route_with_an_id_answers_404_for_ids_that_cannot_exist(app, client, make_user, auth, api_token,
                                                                       bad_id):
    _staff_id, staff_iin = make_user(role="admin", territory="750000000")
    auth.login(staff_iin)
    headers = api_token(staff_iin)
    token = csrf_token(client.get("/en/"))
    checked = 0
    for rule, ids in _id_routes(app):
        values = {name: bad_id for name in ids}
        values.update({name: "kk" for name in rule.arguments if name == "lang_code"})
        values.update({name: "x.jpg" for name in rule.arguments if name == "filename"})
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<id:{name}>", str(value)).replace(f"<int:{name}>", str(value))
        path = path.replace("<any(kk, ru, en):lang_code>", "kk").replace("<filename>", "x.jpg")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            api = path.startswith("/api/")
            if api:
                response = client.open(path, method=method, json={}, headers=headers)
            else:
                response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert response.status_code == 404, (method, path, response.status_code)
            checked += 1
    assert checked >= 20


def test_edit_button_follows_the_revision_deadline(app, client, make_cycle, make_proposal, make_user):
    """The page asks the domain: once the revision deadline passes, no "Edit" is offered."""
    from app.models import Proposal

    author_id, author_iin = make_user()
    cycle_id = make_cycle(phase="review")
    proposal_id = make_proposal(cycle_id, author_id=author_id, status="revision_requested",
                                revision_deadline=datetime.now(timezone.utc) + timedelta(days=2))
    login(client, author_iin)
    edit_link = f"/en/proposals/{proposal_id}/edit"
    assert edit_link in client.get(f"/en/proposals/{proposal_id}").get_data(as_text=True)
    with app.app_context():
        db.session.get(Proposal, proposal_id).revision_deadline = datetime.now(timezone.utc) - timedelta(hours=1)
        db.session.commit()
    assert edit_link not in client.get(f"/en/proposals/{proposal_id}").get_data(as_text=True)
    page = client.get(edit_link)
    assert page.status_code == 409 and "deadline for the revision has passed" in page.get_data(as_text=True)
