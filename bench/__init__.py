"""The project's benchmark (`make bench`): Partnerscope beside Perceval on the same fake trackers."""
