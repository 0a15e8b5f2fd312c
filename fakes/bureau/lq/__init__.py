"""The asynchronous 乐企-style channel (CONTRACT §5.3-§5.6), beside the synchronous one.

The merchant numbers invoices itself from allocated ranges (``ranges``), uploads them in
batches (``uploads``: durable before the 202), and polls for results that the ``processor``
produces by ``judge``-ing each invoice after ``processing_s``; results expire. Red invoices need
a confirmation (``confirmations``, with a simulated buyer) and must fit their blue invoice
(``red``). ``channel`` assembles the parts at start-up from the tables of ``store``; ``api``
holds the routes; ``requestlines`` renders the per-invoice lines of ``/admin/requests``.
Accepted invoices go to the one ledger (``channel = 'lq'``).
"""
