"""Members: names, NIP, unit search and the roster of OPD and unit kerja."""
