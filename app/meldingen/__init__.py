"""Meldingen: besturen subscribe to what changes in their gemeenten (events, feeds, push delivery)."""
