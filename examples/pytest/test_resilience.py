import pytest

OUTAGE = {"load": {"shape": {"type": "steady", "target": 5, "duration_s": 5}},
          "faults": [{"family": "network", "kind": "down", "start_s": 1, "duration_s": 2}]}


@pytest.mark.chaos
def test_invoices_survive_a_bureau_outage(chaos_run):
    chaos_run(OUTAGE, sut="reference:resilient").assert_passed()  # yours: sut_cmd="python adapter.py"
