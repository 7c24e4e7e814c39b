"""Telegram-facing handlers, one module per feature: parse, call a service, render, reply."""
