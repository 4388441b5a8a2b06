"""Peers the messenger adapters are tested against: real servers on 127.0.0.1."""
