from __future__ import annotations

import pytest

from tests.auth.helpers import PASSWORD, FakeClock, cheap_hasher
from tests.statefixtures import state_backends, state_db, state_url
from watchkeeper.auth import SYSTEM, AuthService, Passwords, User
from watchkeeper.state.db import StateDB

__all__ = ["state_backends", "state_db", "state_url"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def passwords() -> Passwords:
    return Passwords(cheap_hasher())


@pytest.fixture
def auth(state_db: StateDB, passwords: Passwords, clock: FakeClock) -> AuthService:
    return AuthService(state_db, passwords=passwords, clock=clock)


@pytest.fixture
def admin(auth: AuthService) -> User:
    return auth.create_user(SYSTEM, "Root", "admin", PASSWORD)


@pytest.fixture
def analyst(auth: AuthService, admin: User) -> User:
    return auth.create_user(auth.principal(admin), "alice", "analyst", PASSWORD)
