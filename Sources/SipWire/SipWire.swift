// SipWire: filled in by its issue.
