"""Audio work: voice disguise, bleeps, anonymized renditions, episodes."""
