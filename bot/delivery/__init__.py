"""The delivery engine: an outbox in the database and one sender that drains it politely."""
