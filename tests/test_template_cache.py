"""Compiled templates kept on disk (maps.templating): a changed template is never served stale,
and a folder that cannot be written only means compiling in memory."""

from __future__ import annotations

from jinja2 import DictLoader, Environment

from maps.templating import _TemplateCache, compile_ahead, environment


def _env(sources: dict[str, str], folder) -> Environment:
    return Environment(loader=DictLoader(sources), bytecode_cache=_TemplateCache(folder))


def test_a_changed_template_is_compiled_again(tmp_path):
    sources = {"p.html": "eerst {{ x }}"}
    assert _env(sources, tmp_path).get_template("p.html").render(x=1) == "eerst 1"
    assert len(list(tmp_path.iterdir())) == 1
    # a new process (new environment) with the same source reads the kept code
    assert _env(sources, tmp_path).get_template("p.html").render(x=2) == "eerst 2"
    sources["p.html"] = "daarna {{ x }}"
    assert _env(sources, tmp_path).get_template("p.html").render(x=3) == "daarna 3"


def test_a_folder_that_cannot_be_made_compiles_in_memory(tmp_path):
    (tmp_path / "cache").write_text("no folder")
    assert _env({"p.html": "{{ x }}"}, tmp_path / "cache").get_template("p.html").render(x=5) == "5"


def test_every_page_template_compiles_and_renders_from_the_cache():
    assert compile_ahead() == len(environment().list_templates(filter_func=lambda n: n.endswith(".html")))
