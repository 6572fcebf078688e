"""The Dutch of every server-rendered page: how a zone of a layer is called ("eerstelijnszone"), its
articles ("elk samenwerkingsverband"), numbers, and the one Jinja2 environment the pages share.

Kept apart from the report (:mod:`maps.report`) so that every page module renders with it without
importing the report, which links back to them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from geo import dutch
from geo.engine.layer import Layer
from geo.paths import ATTRIBUTION
from geo.reference.catalog import population_years
from geo.reference.codes import published
from maps.csp import nonce_attribute

TEMPLATES = Path(__file__).resolve().parent / "templates"
# How a zone of a layer is called in a sentence (singular, plural). Unknown layers fall back to
# "zone van <layer name>", which is always correct if less fluent.
ZONE_NOUNS: dict[str, tuple[str, str]] = {
    "gemeente": ("gemeente", "gemeenten"),
    "provincie": ("provincie", "provincies"),
    "arrondissement": ("arrondissement", "arrondissementen"),
    "eerstelijnszone": ("eerstelijnszone", "eerstelijnszones"),
    "eerstelijnszone_antwerpen_stad": ("eerstelijnszone", "eerstelijnszones"),
    "referentieregio": ("referentieregio", "referentieregio's"),
    "logo": ("LOGO-regio", "LOGO-regio's"),
    "gezondheidsmakers": ("Gezondheidsmakers-regio", "Gezondheidsmakers-regio's"),
    "politiezone": ("politiezone", "politiezones"),
    "vervoerregio": ("vervoerregio", "vervoerregio's"),
    "woonmaatschappij": ("werkingsgebied van een woonmaatschappij", "werkingsgebieden van woonmaatschappijen"),
    "streekwerking": ("streekwerkingsregio", "streekwerkingsregio's"),
    "igs_woonbeleid": ("IGS lokaal woonbeleid", "IGS'en lokaal woonbeleid"),
    "samenwerkingsverband": ("samenwerkingsverband", "samenwerkingsverbanden"),
}
# Dutch 'het'-words among the nouns above: they take "elk" and "geen enkel" instead of "elke" and
# "geen enkele" ("elk samenwerkingsverband", "geen enkel arrondissement").
NEUTER_NOUNS = frozenset({"samenwerkingsverband", "arrondissement", "werkingsgebied van een woonmaatschappij",
                          "IGS lokaal woonbeleid"})


# -- wording ---------------------------------------------------------------------------------
def zone_noun(layer: Layer, plural: bool = False) -> str:
    """'eerstelijnszone' for a zone of the primary care layer; 'zone van <name>' otherwise.

    Examples
    --------
    >>> zone_noun(catalog.layer("logo"), plural=True)
    "LOGO-regio's"
    """
    nouns = ZONE_NOUNS.get(layer.id)
    if nouns:
        return nouns[1] if plural else nouns[0]
    return f"zones van {layer.name}" if plural else f"zone van {layer.name}"


def first_upper(text: str) -> str:
    """Only the first letter upper case: names inside stay as published ('Zone van Lendelede naar Kortrijk').

    ``str.capitalize`` (and Jinja's ``capitalize``) lower-case the rest, which mangles names.

    Examples
    --------
    >>> first_upper("zone van Lendelede naar Kortrijk")
    'Zone van Lendelede naar Kortrijk'
    """
    return text[:1].upper() + text[1:]


def each(noun: str) -> str:
    """'elk samenwerkingsverband', 'elke eerstelijnszone': the article follows the noun's gender.

    Examples
    --------
    >>> each("samenwerkingsverband"), each("eerstelijnszone")
    ('elk samenwerkingsverband', 'elke eerstelijnszone')
    """
    return f"{'elk' if noun in NEUTER_NOUNS else 'elke'} {noun}"


def the(noun: str) -> str:
    """The noun with its definite article: 'het samenwerkingsverband', 'de eerstelijnszone'.

    Examples
    --------
    >>> the("samenwerkingsverband")
    'het samenwerkingsverband'
    """
    return f"{'het' if noun in NEUTER_NOUNS else 'de'} {noun}"


def dezelfde(noun: str) -> str:
    """'hetzelfde samenwerkingsverband', 'dezelfde eerstelijnszone'.

    Examples
    --------
    >>> dezelfde("arrondissement")
    'hetzelfde arrondissement'
    """
    return f"{'hetzelfde' if noun in NEUTER_NOUNS else 'dezelfde'} {noun}"


def no_single(noun: str) -> str:
    """'geen enkel samenwerkingsverband', 'geen enkele eerstelijnszone'.

    Examples
    --------
    >>> no_single("arrondissement")
    'geen enkel arrondissement'
    """
    return f"{'geen enkel' if noun in NEUTER_NOUNS else 'geen enkele'} {noun}"


def inwoners(value: float) -> str:
    """Whole inhabitants with a Dutch thousands separator: 321235 -> '321.235' (:func:`geo.dutch.number`)."""
    return dutch.number(value)


def procent(share: float, decimals: int = 1) -> str:
    """0.9687 -> '96,9 %' (:func:`geo.dutch.percent`)."""
    return dutch.percent(share, decimals)


def getal(value: float, decimals: int = 3) -> str:
    """A measure with a Dutch decimal comma: 0.8123 -> '0,812' (:func:`geo.dutch.number`)."""
    return dutch.number(value, decimals)


list_dutch = dutch.join


# -- rendering -------------------------------------------------------------------------------
# What changes the Python a template compiles to (filters and globals are looked up when it runs).
_COMPILE_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True}
# Templates compiled to Python bytecode are kept beside them, as Python keeps a module's: W13's
# report compiles three templates in about 0.1 s of a fresh process's first answer.
TEMPLATE_CACHE = TEMPLATES / "__pycache__"


class _TemplateCache(FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, keyed by the template's source (Jinja checks its
    checksum), the compile options and Jinja's and Python's versions (in the file). Where the
    folder cannot be written (a read-only install) templates compile in memory, as without it."""

    def __init__(self, directory: Path) -> None:
        options = hashlib.sha1(repr(sorted(_COMPILE_OPTIONS.items())).encode() + b"|html").hexdigest()[:12]
        super().__init__(str(directory), pattern=f"__jinja2_{options}_%s.cache")

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            Path(self.directory).mkdir(exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of all server-rendered pages (autoescaped; Dutch number filters)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      bytecode_cache=_TemplateCache(TEMPLATE_CACHE), **_COMPILE_OPTIONS)
    env.filters.update(inwoners=inwoners, procent=procent, getal=getal, capitalize=first_upper, published=published)
    env.globals.update(attribution=ATTRIBUTION, zone_noun=zone_noun, no_single=no_single, each=each, the=the,
                       population_years=population_years())
    # "the sector sum is ~0.1-0.3 % under Statbel's official count", said once per page (footer)
    from geo.reference.catalog import population_note

    env.filters.update(population_note=population_note)
    # ``<script {{ csp_nonce_attr }}>``: the HTTP layer swaps the placeholder for each response's nonce.
    env.globals["csp_nonce_attr"] = Markup(nonce_attribute())
    return env


def render(template: str, **context: object) -> str:
    """Render one of ``maps/templates``."""
    return environment().get_template(template).render(**context)


def compile_ahead() -> int:
    """Compile every template into the cache (``make run`` does, as it compiles our modules);
    returns how many.

    Examples
    --------
    >>> compile_ahead() > 20
    True
    """
    env = environment()
    names = env.list_templates(filter_func=lambda name: name.endswith(".html"))
    for name in names:
        env.get_template(name)
    return len(names)
