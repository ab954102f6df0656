"""S5, purpose-bound access to customers' personal data: masking in every view, reveals bound to an open case
and a purpose, refusals flagged to the data protection officer, and data-subject requests (export, erasure).

The HTTP routes are in `api/routes/privacy.py`, the queries in `store/privacy.py` and `store/erasure.py`.
"""
