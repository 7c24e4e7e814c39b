"""A strict, local Telegram Bot API server for tests, the demo and development."""
