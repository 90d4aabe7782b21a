// StunWire: filled in by its issue.
