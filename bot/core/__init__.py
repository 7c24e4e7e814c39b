"""The kernel every feature may use: configuration, clock and calendar, rendering, typed
dependencies, logging, Telegram's text rules."""
