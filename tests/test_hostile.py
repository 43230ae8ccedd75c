"""Hostile input, each case against real loopback servers or real files: what a run meets on the
open web, and what a careless config or a broken page does. Every case asserts a bounded outcome
(time, memory, a one-line error naming the culprit) and that the rest of the run goes on."""

from __future__ import annotations

# --- network: servers that misbehave --------------------------------------------------------

# --- feeds: entries without links, huge feeds -----------------------------------------------

# --- config, files and the command line -----------------------------------------------------

# --- the review page ---------------------------------------------------------------------------

# --- secrets --------------------------------------------------------------------------------
