"""Fuzz the rules language: mutated and generated rules texts must end in a positioned error, never a crash.

Each case is a pure function of (seed, index), so a case is named by two numbers and regenerated anywhere.
Parse and check run in process (a Python-level hang is cut by a timer signal); a case that compiles is
fed, now and then, to the engine in a subprocess with a timeout, since a crash or a hang in the engine's
C code cannot be caught in process. One case in ten more is planted: a seed that compiles, given a
reserved name or 'or' choices past the engine's limit, which must be refused with an error at that place.

    python -m reliability.fuzz --cases 100000 [--seed S] [--engine-every K] [--jobs J] [--out DIR]

`generate` writes rules texts from the grammar's constructs, `mutate` changes one, `plant` adds a
construct that must be refused, `cases` draws case (seed, index) from the seed corpus, `oracle` parses
and checks it, `engine` runs compiled cases in subprocesses, `run` runs a whole campaign and `__main__`
is the command.
"""
