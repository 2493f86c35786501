from tests.statefixtures import state_backends, state_db, state_url

__all__ = ["state_backends", "state_db", "state_url"]
