"""Failure injection for sandbox providers, so tests and benchmarks can prove exactly-once under failure."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


class ProviderUnavailable(Exception):
    """The provider could not be reached; nothing happened there. Safe to retry."""


class ProviderTimedOut(Exception):
    """The call timed out *after* the provider acted (the money moved). Only an idempotency key makes a retry safe."""


@dataclass
class FaultPlan:
    """Fails a share of calls before or after the provider's effect, or exactly the first N calls."""

    before_rate: float = 0.0
    after_effect_rate: float = 0.0
    fail_first_after_effect: int = 0
    seed: int | None = None
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    injected: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def before_effect(self) -> None:
        with self._lock:
            if self._random.random() < self.before_rate:
                self.injected += 1
                raise ProviderUnavailable("injected fault: provider unavailable")

    def after_effect(self) -> None:
        with self._lock:
            if self.fail_first_after_effect > 0:
                self.fail_first_after_effect -= 1
            elif not self._random.random() < self.after_effect_rate:
                return
            self.injected += 1
        raise ProviderTimedOut("injected fault: timed out after the provider acted")


NO_FAULTS = FaultPlan()
