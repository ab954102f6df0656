"""What the customer reads: Jinja2 templates per workflow type, message and language, and their rendering."""
