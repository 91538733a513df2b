"""Verenigingsregister: a linked-data register of associations for Flanders."""
