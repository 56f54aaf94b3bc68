"""Events published by the communication service on `communication.events`."""
