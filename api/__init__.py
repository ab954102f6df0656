"""The HTTP edge: validates input once, opens cases, and reads the read model (plus live workflow state)."""
