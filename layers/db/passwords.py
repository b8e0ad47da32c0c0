"""The app role's password, derived from the owner's (used by the connections and the private cluster)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def app_password(owner_password: str, app_role: str) -> str:
    """HMAC-SHA256 of the role name keyed by the owner's password: one-way, so the app's password reveals nothing
    of the owner's, and whoever holds the owner's URL (a migration, `kotaku serve`) can log the app in."""
    digest = hmac.new(owner_password.encode(), f"kotaku app login {app_role}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
