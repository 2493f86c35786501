"""Who may do what: users, roles and permissions, passwords, tokens, web sessions, throttling.

    auth = AuthService(db)
    user = auth.authenticate(username, password, client_ip)     # 401, or 429 when throttled
    cookie, web = auth.start_session(user)                      # web UI
    principal = auth.verify_token(bearer)                       # API
    require(principal, Permission.ALERTS_TRIAGE)                # 403 naming the permission
"""

from watchkeeper.auth.model import ApiTokenRow, User, UserRow, WebSessionRow
from watchkeeper.auth.passwords import MIN_LENGTH, Passwords, check_policy
from watchkeeper.auth.principal import SYSTEM, Principal, require, require_source, user_principal
from watchkeeper.auth.roles import (
    INGEST_PERMISSIONS,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    allowed,
    parse_permission,
    parse_role,
    permissions_for,
)
from watchkeeper.auth.service import AuthService
from watchkeeper.auth.sessions import (
    SessionSettings,
    WebSession,
    check_csrf,
    clear_session_cookie,
    cookie_name,
    session_cookie,
)
from watchkeeper.auth.throttle import LoginThrottle, ThrottleLimits, TooManyAttempts
from watchkeeper.auth.tokens import ApiToken, TokenKind, parse_token

__all__ = [
    "INGEST_PERMISSIONS",
    "MIN_LENGTH",
    "ROLE_PERMISSIONS",
    "SYSTEM",
    "ApiToken",
    "ApiTokenRow",
    "AuthService",
    "LoginThrottle",
    "Passwords",
    "Permission",
    "Principal",
    "Role",
    "SessionSettings",
    "ThrottleLimits",
    "TokenKind",
    "TooManyAttempts",
    "User",
    "UserRow",
    "WebSession",
    "WebSessionRow",
    "allowed",
    "check_csrf",
    "check_policy",
    "clear_session_cookie",
    "cookie_name",
    "parse_permission",
    "parse_role",
    "parse_token",
    "permissions_for",
    "require",
    "require_source",
    "session_cookie",
    "user_principal",
]
