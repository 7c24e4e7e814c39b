"""Fair team leaderboards, score cards and their charts."""
