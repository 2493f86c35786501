from tests.api.conftest import bare_server
from tests.statefixtures import state_backends, state_db, state_url

__all__ = ["bare_server", "state_backends", "state_db", "state_url"]
