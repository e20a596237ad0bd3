"""A frozen copy of the shipped example environment files.

Fixtures build on these, never on the user's envs/ (which a fork edits). Refresh by copying
envs/<name>.py when the shipped example changes.
"""
