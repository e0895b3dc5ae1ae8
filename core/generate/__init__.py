"""Latent properties and their posterior, and the generation loop."""
