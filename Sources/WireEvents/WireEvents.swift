// WireEvents: filled in by its issue.
