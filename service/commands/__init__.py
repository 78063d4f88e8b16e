"""The commands of `partnerscope`, by what they do; `service/cli.py` puts them together."""
