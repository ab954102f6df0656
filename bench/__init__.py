"""`python -m bench` (`make bench`): speed and memory figures of the engine, each beside its target.

Speed figures are ratios to a baseline measured in the same run on the same machine, so they mean the same on
a laptop and on a 2-core CI box. The phases, one module each: `intake` (a), `end_to_end` (b), `first_contact`
(c), `queries` (d), `memory` (e), `history` (f). `__main__` runs them in order; `report` prints and saves.

This package is imported inside the workflow sandbox too (`bench.bare` holds a workflow), so it must stay
free of side effects at import time.
"""
