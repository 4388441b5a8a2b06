"""Matrix adapter (matrix-nio): `signpost run matrix`."""
