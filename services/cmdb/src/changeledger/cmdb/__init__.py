"""Changeledger's cmdb service."""
