"""Visible checks that students run in the notebooks; each failure names the mistake."""
