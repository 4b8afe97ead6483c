"""Hand-written grader cases of the assignments not yet declared as exercises."""
