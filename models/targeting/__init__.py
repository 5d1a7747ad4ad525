"""Targeting: office lists at their capacity, exclusions, the specialised team's visits and the
exploration slots with their known selection probabilities, and activities in words. It
decides who is on a list given the scores; it never scores a workplace itself.
"""
