"""Experiments: beams (CM-to-lab transformation) and detector response."""
