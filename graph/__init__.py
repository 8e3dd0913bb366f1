"""The lineage graph: model, journal, query semantics and stores. No HTTP, no source formats."""
