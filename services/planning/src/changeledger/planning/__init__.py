"""Changeledger's planning service."""
