"""Composition root and the radyar command."""
