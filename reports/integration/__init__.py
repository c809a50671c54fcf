"""OS2geo in the municipality's system landscape: reports sent on to back-office systems
over Open311 (sending), their status read back (syncing), over a small Open311 client
(client). Updates that front ends post to us are reports.services.updates."""
