"""Demo data for Partnerscope: a deterministic Acme/Nordlys Jira scenario (`simulator.scenario`)."""
