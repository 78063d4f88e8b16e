"""Jobs: syncs, imports, the demo, and the pipeline every ingestion path shares (store, then attribute)."""
