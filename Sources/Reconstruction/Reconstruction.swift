// Reconstruction: filled in by its issue.
