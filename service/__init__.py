"""The Partnerscope service: configuration, database, sync jobs, command line and web app."""
