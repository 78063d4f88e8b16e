"""The database: engine and migrations, models, upserts, identities, and the queries behind every report."""
