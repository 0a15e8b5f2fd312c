"""The exception tree of the harness.

Every error a user can cause or meet derives from ``ChaosError`` and carries the process exit
code of CONTRACT §4, so the CLI maps errors to exit codes in one place::

    ChaosError                  exit 1 unless a subclass says otherwise
    ├── InputError              exit 2: the user's input is wrong (names file, field, value)
    │   └── ScenarioError       a scenario file does not parse or validate
    ├── EnvironmentFailure      exit 3: the environment failed (a service did not start, ...)
    │   ├── BackendError        starting, stopping or signalling a service failed
    │   └── FaultError          a fault could not be applied or reverted
    └── Interrupted             exit 130: Ctrl-C or SIGTERM, after cleanup

Foreign exceptions (httpx, OSError, docker) are mapped to these at the boundary where they occur.
"""

from __future__ import annotations


class ChaosError(Exception):
    exit_code = 1


class InputError(ChaosError):
    """The user's input is wrong. The message says where (file, field, value) and what to do."""

    exit_code = 2


class ScenarioError(InputError):
    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: the scenario is not valid:\n{lines}")


class EnvironmentFailure(ChaosError):
    """Something outside the user's input failed: a service, an engine, a port."""

    exit_code = 3


class BackendError(EnvironmentFailure):
    pass


class FaultError(EnvironmentFailure):
    pass


class Interrupted(ChaosError):
    exit_code = 130
