"""Logins for the team server: accounts and roles, argon2 password hashes, sessions, rate limits.

SQL lives in :mod:`narratives.store.users`; this package holds the rules. Nothing here ever logs or
stores a password or a session token in clear: only argon2 hashes of passwords and SHA-256 hashes
of tokens reach the database.
"""
