"""The README's table of who may call each route is the one `mapserver roles` prints from the role table and the
app's routes: a route added or a role changed without pasting the new table into the README fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mapserver.cli import main
from mapserver.cli.roles import markdown_table
from mapserver.roles import ROUTES

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- roles table: the output of `mapserver roles` -->\n"
END = "<!-- end of the roles table -->"


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(START) + len(START):text.index(END)]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_readme_prints_the_role_table_of_the_app(app):
    assert readme_table() == markdown_table(app), (
        "README.md's roles table is not the one the role table and routes give: run `mapserver roles` and paste its "
        "output between the markers in README.md")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_table_has_a_line_per_route_and_method_and_names_no_unknown_endpoint(app):
    lines = markdown_table(app).splitlines()[2:]
    assert len(lines) == sum(len(rule.methods - {"HEAD", "OPTIONS"}) for rule in app.url_map.iter_rules())
    assert {rule.endpoint for rule in app.url_map.iter_rules()} == set(ROUTES)
    assert not any("nobody" in line for line in lines)
    assert "| PATCH | `/api/accounts/{name}` | admin |" in lines
    assert "| POST | `/api/incidents/{incident_id}/transitions` | operator, dispatcher, field, admin |" in lines
    assert "| GET | `/healthz` | anyone, without logging in |" in lines
    assert all(re.fullmatch(r"\| (GET|POST|PUT|PATCH|DELETE) \| `/[^`]*` \| [a-z ,]+ \|", line) for line in lines)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_mapserver_roles_prints_it(store, tmp_path, app):
    config = tmp_path / "config.yaml"
    config.write_text(f"store:\n  url: {store.url}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "roles"])
    assert result.exit_code == 0, result.output
    assert result.output == markdown_table(app)
