"""Scoring: question form, intent matching, rubric deltas and the debrief."""
