"""Who may change what: the two roles and the owner rule.

* ``beheerder`` (the administration): everything, including users and the audit trail.
* ``bijdrager`` (an association or a planner): reads and duplicates everything, creates
  scenarios and layers, changes and deletes only what it owns.

Without accounts (no user in the database) the service runs as before: one API token, or open
writes from this machine; whoever writes then acts as a beheerder (:data:`OPERATOR`, :data:`LOCAL`).

Examples
--------
>>> may_change(Actor("ann", BIJDRAGER), owner="ann"), may_change(Actor("ann", BIJDRAGER), owner="bob")
(True, False)
>>> may_change(Actor("els", BEHEERDER), owner="bob")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import Forbidden

BEHEERDER = "beheerder"
BIJDRAGER = "bijdrager"
ROLES = (BEHEERDER, BIJDRAGER)

# Where the named users' signed-in sessions are keyed (beside the shared token's own key).
ACCOUNTS_KEY = "accounts"


@dataclass(frozen=True)
class Actor:
    """Who makes a request: a user name (``None`` for the shared token or open local mode, which
    own nothing) and a role; ``label`` is how the audit trail names them."""

    name: str | None
    role: str
    label: str = ""

    @property
    def is_beheerder(self) -> bool:
        """Whether this actor has the beheerder (administrator) role."""
        return self.role == BEHEERDER

    @property
    def who(self) -> str:
        """The audit trail's name for this actor."""
        return self.name or self.label or "onbekend"

    @property
    def owner(self) -> str | None:
        """The owner of what this actor creates (a user's name; nobody in single-token mode)."""
        return self.name


# The single configured API token, and open writes from this machine without any token.
OPERATOR = Actor(None, BEHEERDER, "gedeelde sleutel")
LOCAL = Actor(None, BEHEERDER, "lokaal (zonder sleutel)")


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`, else :class:`geo.errors.InvalidInput`.

    Examples
    --------
    >>> check_role("bijdrager")
    'bijdrager'
    """
    from geo.errors import InvalidInput

    if role not in ROLES:
        raise InvalidInput(f"de rol moet {' of '.join(ROLES)} zijn, niet {role!r}")
    return role


def may_change(actor: Actor, owner: str | None) -> bool:
    """Whether ``actor`` may change or delete something owned by ``owner``."""
    return actor.is_beheerder or (actor.name is not None and actor.name == owner)


def check_may_change(actor: Actor | None, owner: str | None, what: str) -> None:
    """:class:`geo.errors.Forbidden` when ``actor`` may not change ``what`` (``None``: unchecked,
    e.g. the command line on the server itself)."""
    if actor is None or may_change(actor, owner):
        return
    whose = f"van {owner}" if owner else "van de beheerder"
    raise Forbidden(f"{what} is {whose}: een bijdrager mag alleen wijzigen en verwijderen wat hij zelf "
                    "heeft gemaakt (dupliceren mag wel)")


def check_beheerder(actor: Actor | None, what: str) -> None:
    """:class:`geo.errors.Forbidden` unless ``actor`` is a beheerder."""
    if actor is not None and not actor.is_beheerder:
        raise Forbidden(f"{what} is voorbehouden aan een beheerder")
