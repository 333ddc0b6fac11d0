"""Back-and-forth translation: plans -> executed turns against each scenario's own backend session."""
