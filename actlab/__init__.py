"""actlab: the small library that the book's chapters and the labs share.

Chapters and labs import from here so that notebook cells stay short and show the idea,
not the plumbing.
"""
