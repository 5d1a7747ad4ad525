"""demo_world."""
