"""invoice-chaos: chaos testing for e-invoicing integrations."""

__version__ = "0.1.0"
