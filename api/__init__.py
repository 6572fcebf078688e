"""HTTP API and command line of regiomatch: parse, call :mod:`geo`, serialise."""
