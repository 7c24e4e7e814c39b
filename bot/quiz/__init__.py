"""Quizzes: question choice, rounds, polls, and recording answers."""
