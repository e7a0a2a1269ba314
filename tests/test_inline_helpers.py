"""Issue 11: a helper runs once per render, whatever parts (HTML, text) are compiled from the email."""
from __future__ import annotations

import logging

import pytest

from mailtpl import Environment
from mailtpl.text import html_to_text
from tests.test_inline import BASE, folder, page

CSS = ".x { color: red }"


@pytest.mark.parametrize("body", [
    '<p class="x">{{#if (counted)}}Hi {{name}}{{/if}}</p>',
    '<p class="x">{{lookup . (counted "name")}}</p>',
    '<div>{{#each (counted "rows")}}<p>{{this}}</p>{{/each}}</div>',
    '<a href="{{link}}">{{#with (counted "user")}}{{name}}{{/with}}</a>',
])
def test_a_helper_in_a_subexpression_runs_once_per_render(tmp_path, body):
    calls = []

    def counted(this, key="name"):
        calls.append(key)
        return this.get(key, "x")

    env = Environment(folder(tmp_path, {"e.hbs": page(CSS, body)}), base_url=BASE, helpers={"counted": counted})
    data = {"name": "Ada", "rows": ["a", "b"], "user": {"name": "Bo"}, "link": "https://x.test/?a=1"}
    for renders in (1, 2):
        email = env.render("e", data)
        assert len(calls) == renders
        assert email.text == html_to_text(email.html)
    assert email.inlining == "compile-time"


def test_log_runs_once_per_render(tmp_path, caplog):
    env = Environment(folder(tmp_path, {"e.hbs": page(CSS, '<p class="x">{{log "sent" name}}{{name}}</p>')}),
                      base_url=BASE)
    with caplog.at_level(logging.DEBUG):
        email = env.render("e", {"name": "Ada"})
    assert email.text == "Ada\n"
    assert [r.getMessage() for r in caplog.records if "sent" in r.getMessage()] != []
    assert len([r for r in caplog.records if "sent" in r.getMessage()]) == 1
