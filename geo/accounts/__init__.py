"""Named users: roles and rights (:mod:`.roles`), passwords and API tokens (:mod:`.credentials`),
sign-in throttling (:mod:`.throttle`). The tables live in :mod:`geo.storage.accounts`."""
