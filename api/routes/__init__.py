"""Routers, one per resource; ``api/main.py`` wires them."""
