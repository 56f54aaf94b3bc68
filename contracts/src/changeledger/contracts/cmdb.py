"""Events published by the CMDB service on `cmdb.events`."""
