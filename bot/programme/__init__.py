"""The programme: its scheduler, the value of the day and reflections."""
