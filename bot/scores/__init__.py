"""Points, streaks and shields, and the scorekeeper that applies them."""
