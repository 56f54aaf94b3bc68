"""`changeledger demo`: one realistic quarter played through the public APIs only."""
