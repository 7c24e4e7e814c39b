"""BerAKHLAK engagement bot."""
