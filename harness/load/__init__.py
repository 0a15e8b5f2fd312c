"""The load: Locust traffic on the SUT (docs/load.md).

Import ``harness.load.driver`` (asyncio side) and ``harness.load.shapes`` (models); never
``harness.load.locustfile``, which only runs inside the Locust process. Kept empty of imports
because the Locust process imports this package too.
"""
