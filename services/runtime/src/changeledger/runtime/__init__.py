"""Plumbing every Changeledger service shares: stores, relay, consumers, auth, HTTP."""
