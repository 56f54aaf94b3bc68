"""Changeledger's risk service."""
