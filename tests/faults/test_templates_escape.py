"""Every template in bot/templates/ (chat texts, button labels, dashboard pages, both languages)
rendered with a hostile string in every variable: no raw markup from a value survives.

The hostile value is a string that is also whatever else a template asks of a value (an object
with attributes, a mapping, a list, a number, a date), so that every `{{ … }}` path of every
template is reached. Where a template looks the value up in one of its own constant tables
(`{"omzet": …}[kind]`) or formats it with a dashboard filter (dates, rupiah), the hostile value
itself comes out: a stricter test than the real lookup, whose result is the template's own text.
"""

from __future__ import annotations

import types
from functools import cache
from typing import Any

import pytest
from jinja2 import Environment, meta

from bot.dashboard.render import _filters
from bot.rendering import environment

PAYLOAD = "\"'><script>alert(1)</script><b onmouseover=alert(1)>x</b><a href=\"javascript:alert(1)\">&amp;"
RAW = ("<script", "<b onmouseover", '<a href="javascript')
# Values the server sets, never from anyone: kept real.
CONSTANTS = {"prefix": "/dashboard"}
# A link a person typed (an event's online link) must not become a script link either.
SCRIPT_LINK = "javascript:alert(1)"


class Hostile(str):
    """The payload, and everything else a template may ask of a value."""

    text = PAYLOAD  # "plain" for the baseline rendering (the template's own markup)

    def __new__(cls, width: int = 2) -> Hostile:
        value = super().__new__(cls, cls.text)
        value.width = width  # how many values each of its items unpacks into
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # __html__ above all: the value is not markup
        return Hostile()

    def __getitem__(self, key: Any) -> Hostile:  # type: ignore[override]
        return Hostile()

    def __call__(self, *args: Any, **kwargs: Any) -> Hostile:
        return Hostile()

    def __iter__(self) -> Any:  # type: ignore[override]
        return iter([Hostile(self.width) for _ in range(self.width)])

    def __len__(self) -> int:
        return self.width

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __add__(self, other: object) -> Hostile:  # type: ignore[override]
        return Hostile()

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __floordiv__ = __add__
    __mod__ = __rmod__ = __neg__ = __add__

    def __float__(self) -> float:
        return 1.0

    def __int__(self) -> int:
        return 1

    def __index__(self) -> int:
        return 1

    def __round__(self, digits: int | None = None) -> int:
        return 1

    def __abs__(self) -> int:
        return 1

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other)


def _passthrough(value: Any, *args: Any, **kwargs: Any) -> Any:
    return value


def _attribute(self: Environment, obj: Any, attribute: str) -> Any:
    """`value.title`, `value.strftime(…)`: a hostile value's every attribute is hostile (its
    str methods included, which would otherwise render as "<built-in method …>")."""
    if isinstance(obj, Hostile) and not attribute.startswith("__"):
        return Hostile(_widths.get(attribute, 2))
    return Environment.getattr(self, obj, attribute)


def _lookup(self: Environment, obj: Any, argument: Any) -> Any:
    """A constant table looked up with the hostile value gives the hostile value."""
    if isinstance(obj, dict) and isinstance(argument, Hostile) and argument not in obj:
        return Hostile()
    return Environment.getitem(self, obj, argument)


@cache
def _environment() -> Environment:
    _filters()  # the dashboard's filters, as the dashboard registers them
    env = environment().overlay()
    env.filters.update(when=_passthrough, day=_passthrough, rupiah=_passthrough, rupiah_short=_passthrough)
    env.getitem = types.MethodType(_lookup, env)  # type: ignore[method-assign]
    env.getattr = types.MethodType(_attribute, env)  # type: ignore[method-assign]
    return env


@cache
def _variables() -> frozenset[str]:
    """Every variable any template reads (a page's layout reads some of its own)."""
    env = _environment()
    found: set[str] = set()
    for name in env.list_templates():
        found |= meta.find_undeclared_variables(env.parse(env.loader.get_source(env, name)[0]))  # type: ignore[union-attr]
    return frozenset(found)


# Lists whose items a template unpacks into three (`{% for title, done, optional in checklist %}`);
# some names are unpacked into two in one template and three in another: every mix is tried.
THREE = ("open_questions", "points")
EITHER = ("checklist", "classes", "events")
_widths: dict[str, int] = {}


def _width_mixes() -> list[dict[str, int]]:
    mixes = []
    for mask in range(2 ** len(EITHER)):
        mix = {name: 3 for name in THREE}
        mix.update({name: 3 if mask >> n & 1 else 2 for n, name in enumerate(EITHER)})
        mixes.append(mix)
    return mixes


def _render(name: str, text: str = PAYLOAD) -> str:
    template = _environment().get_template(name)
    Hostile.text = text
    failure: ValueError | None = None
    try:
        for mix in _width_mixes():
            _widths.clear()
            _widths.update(mix)
            context: dict[str, Any] = {variable: Hostile(_widths.get(variable, 2)) for variable in _variables()}
            context.update(CONSTANTS)
            try:
                return template.render(**context)
            except ValueError as exc:  # a list unpacked into another number of values
                if "unpack" not in str(exc):
                    raise
                failure = exc
    finally:
        Hostile.text = PAYLOAD
    raise AssertionError(f"{name} renders with no mix of list shapes") from failure


TEMPLATES = sorted(environment().list_templates())


def test_every_template_is_covered() -> None:
    assert len(TEMPLATES) > 250 and any("/dashboard/" in t for t in TEMPLATES) and any(t.startswith("en/") for t in TEMPLATES)


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_raw_markup_from_a_value_survives(name: str) -> None:
    hostile = _render(name).lower()
    baseline = _render(name, "plain").lower()  # the same paths with a harmless value
    assert "alert(1)" in hostile or "alert(1)" not in baseline  # the payload did reach the output
    for raw in RAW:
        assert hostile.count(raw) == baseline.count(raw), f"{name}: a value's {raw!r} came through: {hostile[:300]!r}"
    links = _render(name, SCRIPT_LINK).lower()
    for attribute in ('href="javascript', "href='javascript", 'src="javascript', 'action="javascript'):
        assert attribute not in links, f"{name}: a typed link became {attribute!r}"
