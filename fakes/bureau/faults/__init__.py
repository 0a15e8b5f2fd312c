"""Bureau-side faults (CONTRACT §2), all in one place.

``specs`` validates fault lists (422 naming ``faults[i].param``); ``board`` holds the active
list and the seeded RNG and picks the faults that act on a request; ``middleware`` applies them
around the public API; ``hooks`` are the two narrow seams where a fault reaches inside a handler
(the validation policy and the read lag). Ghost commits need no hook: the middleware lets the
handler commit, then swaps the answer.
"""
