"""A pipeline over a real spool, the in-memory event store and a real state database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.serverfixtures import EXAMPLE_RULES
from watchkeeper.assets.service import AssetService
from watchkeeper.audit.service import AuditLog
from watchkeeper.config import AlertSettings, RulesSettings
from watchkeeper.deadletters.service import DeadLetters
from watchkeeper.events.normalize import Normalizer
from watchkeeper.ingest.spool import Spool
from watchkeeper.ops.metrics import Metrics
from watchkeeper.parsers import default_registry
from watchkeeper.pipeline.decode import Decoder
from watchkeeper.pipeline.service import Pipeline
from watchkeeper.rules.service import RuleService
from watchkeeper.state.db import StateDB
from watchkeeper.store.memory import MemoryEventStore


@dataclass
class Rig:
    spool: Spool
    store: MemoryEventStore
    db: StateDB
    rules: RuleService
    assets: AssetService
    dead_letters: DeadLetters
    pipeline: Pipeline

    def send(self, payload: bytes, source_type: str = "syslog", origin: str = "test") -> int:
        return self.spool.append(source_type, origin, payload)

    def run(self) -> None:
        """Process everything in the spool, as the pipeline thread would."""
        while self.pipeline.position < self.spool.last_seq():
            chunks = self.spool.read(self.pipeline.position, 1 << 20)
            self.pipeline.process(chunks)


def make_rig(db: StateDB, spool_dir: Path, rules_dir: Path = EXAMPLE_RULES,
             store: MemoryEventStore | None = None) -> Rig:
    audit = AuditLog(db)
    rules = RuleService(db, audit, RulesSettings(paths=[rules_dir]), AlertSettings())
    assets = AssetService(db, audit)
    letters = DeadLetters(db, audit)
    spool = Spool(spool_dir, fsync=False)
    store = store or MemoryEventStore()
    pipeline = Pipeline(
        spool=spool, store=store, db=db, rules=rules, decoder=Decoder(default_registry()),
        normalizer=Normalizer(), assets=assets, dead_letters=letters, metrics=Metrics(),
        batch_size=1000, max_latency_s=0.01,
    )
    return Rig(spool, store, db, rules, assets, letters, pipeline)


@pytest.fixture
def rig(state_db: StateDB, tmp_path: Path) -> Iterator[Rig]:
    made = make_rig(state_db, tmp_path / "spool")
    yield made
    made.pipeline.stop(drain_timeout_s=0)
    made.spool.close()
