"""Who may change what: roles and the owner rule, passwords and tokens, sign-in throttling.
Their tables (users, API tokens, sessions, the audit trail) are :mod:`geo.storage.accounts`.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``roles``: Actor, BEHEERDER, BIJDRAGER, ROLES, may_change, check_may_change, check_beheerder
- ``credentials``: hash_password, verify_password, new_secret, secret_hash
- ``throttle``: Throttle
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "Actor": "geo.accounts.roles",
    "BEHEERDER": "geo.accounts.roles",
    "BIJDRAGER": "geo.accounts.roles",
    "ROLES": "geo.accounts.roles",
    "may_change": "geo.accounts.roles",
    "check_may_change": "geo.accounts.roles",
    "check_beheerder": "geo.accounts.roles",
    "hash_password": "geo.accounts.credentials",
    "verify_password": "geo.accounts.credentials",
    "new_secret": "geo.accounts.credentials",
    "secret_hash": "geo.accounts.credentials",
    "Throttle": "geo.accounts.throttle",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
