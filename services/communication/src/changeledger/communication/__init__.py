"""Changeledger's communication service."""
