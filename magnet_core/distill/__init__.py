"""Context distillation: positive trajectories from hints, preference pairs from misleading hints, single-turn samples."""
