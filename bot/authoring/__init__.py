"""Tools for trainers who write scenarios: lint, tests, coverage, exploration, graphs, strings."""
