// Renderers: filled in by its issue.
