"""Talk with the trackers and turn their JSON into neutral records (no database, no Flask)."""
