"""Data access: SQLModel tables, the engine, queries and migrations. Never imports telegram."""
