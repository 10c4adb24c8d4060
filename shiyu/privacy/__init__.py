"""Personal data: who saw it unmasked (audited once per request) and encryption key rotation."""
