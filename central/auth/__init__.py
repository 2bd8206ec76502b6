"""Who may use the dashboard, and the record of what they did.

- `users`: accounts, roles and scrypt password hashes.
- `sessions`: signed-in browsers (server-side rows, idle and absolute expiry).
- `lockout`: failed sign-ins that lock an account or an address for a while.
- `audit`: one row per change (who, what, from where), written in the change's transaction.

The pages that use them (sign-in, sign-out, admin) are in central/web/auth.py
and central/web/admin.py; docs/decisions/0011-dashboard-access.md has the rules.
"""
