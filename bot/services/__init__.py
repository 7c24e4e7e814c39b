"""Domain services: plain Python over db/, no Telegram types."""
