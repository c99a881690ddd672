"""Competency frameworks (DigComp 2.2 and a town's own), evidence, profiles and the skill matrix."""
