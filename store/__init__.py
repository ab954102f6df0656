"""The read model and audit trail: SQLModel tables and the queries on them. Written by activities and the API edge."""
