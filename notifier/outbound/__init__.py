"""Outbound adapters: booking changes told to the hospital's systems, one module per format."""
